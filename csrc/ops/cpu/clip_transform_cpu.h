// The CPU clip_transform kernel on one prepared clip (ops/clip_transform_batch.h), shared by the
// single-clip op and the batched ops. Defined in clip_transform_kernel.cpp.
#pragma once

#include <ATen/core/Tensor.h>

#include "ops/clip_transform_batch.h"

namespace fastvid {

// Runs `clip` into `out`: a contiguous CPU tensor of (C, T', h, w) elements of the clip's out_dtype,
// e.g. one clip's slice of a batch output. Parallel over rows with at::parallel_for (inline when
// called from inside a parallel region).
void clip_transform_cpu_into(const PreparedClip& clip, at::Tensor out);

}  // namespace fastvid
