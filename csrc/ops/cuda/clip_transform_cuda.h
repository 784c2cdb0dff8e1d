// clip_transform on CUDA: the launcher shared by the single-clip op (a batch of one) and the batched
// ops. Defined in clip_transform_kernel.cu.
#pragma once

#include <ATen/core/Tensor.h>

#include <vector>

#include "ops/clip_transform_batch.h"

namespace fastvid {

// Runs every prepared clip into `out`, a contiguous CUDA tensor of (B, C, T', h, w) elements (or
// (C, T', h, w) when B is 1), on the current stream of the clips' device. The caller has checked the
// clips (same device, dtype, channels, T' and crop size) and set the device guard.
void launch_clip_transform_cuda(const std::vector<PreparedClip>& clips, at::Tensor& out);

}  // namespace fastvid
