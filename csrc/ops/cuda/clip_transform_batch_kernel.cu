// CUDA clip_transform_batch (list of clips, or one packed buffer): the batch is checked clip by clip
// with clip_transform's own checks (ops/clip_transform_batch.h), then ONE launch of the
// clip_transform kernel (see clip_transform_kernel.cu) computes every clip, each with its own source
// size, strides, frames, resize, crop and flip.
#include <ATen/core/Tensor.h>
#include <ATen/ops/empty.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

#include <vector>

#include "common/checks.h"
#include "ops/clip_transform_batch.h"
#include "ops/cuda/clip_transform_cuda.h"

namespace fastvid {

namespace {

at::Tensor run_batch_cuda(const std::vector<PreparedClip>& clips) {
  const at::Tensor& v0 = clips.front().video;
  FASTVID_CHECK_VALUE(v0.is_cuda(), kBatchOp, "the CUDA kernel got clips on ", v0.device(),
                      " (a per-clip argument tensor on a CUDA device with clips on the CPU sends "
                      "the call here; keep per-clip arguments on the CPU)");
  // device guard
  const c10::cuda::CUDAGuard guard(v0.device());
  // allocate; strides are read in place (no .contiguous() copies)
  at::Tensor out = at::empty(batch_out_shape(clips), v0.options().dtype(clips.front().out_dtype));
  // one launch on the current stream (empty outputs return early inside)
  launch_clip_transform_cuda(clips, out);
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(fastvid, CUDA, m) {
  m.impl("clip_transform_batch", &clip_transform_batch_entry<run_batch_cuda>);
  m.impl("clip_transform_batch_packed", &clip_transform_batch_packed_entry<run_batch_cuda>);
}

}  // namespace fastvid
