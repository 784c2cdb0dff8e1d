// CUDA clip_transform_batch (list of clips, or one packed buffer): the batch is checked clip by clip
// with clip_transform's own checks, then ONE launch of the clip_transform kernel (see
// clip_transform_kernel.cu) computes every clip, each with its own source size, strides, frames,
// resize, crop and flip.
#include <ATen/core/Tensor.h>
#include <ATen/ops/empty.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "common/checks.h"
#include "ops/clip_transform_batch.h"
#include "ops/cuda/clip_transform_cuda.h"

namespace fastvid {

namespace {

constexpr const char* kOp = "clip_transform_batch";

at::Tensor run_batch_cuda(const std::vector<at::Tensor>& videos, c10::string_view layout,
                          const std::optional<at::Tensor>& frame_indices,
                          const std::optional<at::Tensor>& sizes,
                          const std::optional<at::Tensor>& crop_offsets, at::IntArrayRef crop_size,
                          const std::optional<at::Tensor>& flips, std::optional<double> scale,
                          std::optional<at::ArrayRef<double>> mean,
                          std::optional<at::ArrayRef<double>> std, bool antialias,
                          at::ScalarType out_dtype, int64_t expect_channels) {
  // checks (every clip with clip_transform's checks), frames and taps, on the host
  const std::vector<PreparedClip> clips =
      prepare_batch(kOp, videos, layout, frame_indices, sizes, crop_offsets, crop_size, flips, scale,
                    mean, std, antialias, out_dtype);
  check_batch_channels(kOp, clips, expect_channels);
  const at::Tensor& v0 = clips.front().video;
  FASTVID_CHECK_VALUE(v0.is_cuda(), kOp, "the CUDA kernel got clips on ", v0.device(),
                      " (a per-clip argument tensor on a CUDA device with clips on the CPU sends "
                      "the call here; keep per-clip arguments on the CPU)");
  // device guard
  const c10::cuda::CUDAGuard guard(v0.device());
  // allocate; strides are read in place (no .contiguous() copies)
  at::Tensor out = at::empty(batch_out_shape(clips), v0.options().dtype(out_dtype));
  // one launch on the current stream (empty outputs return early inside)
  launch_clip_transform_cuda(clips, out);
  return out;
}

at::Tensor clip_transform_batch_cuda(at::TensorList videos, c10::string_view layout,
                                     const std::optional<at::Tensor>& frame_indices,
                                     const std::optional<at::Tensor>& sizes,
                                     const std::optional<at::Tensor>& crop_offsets,
                                     at::IntArrayRef crop_size,
                                     const std::optional<at::Tensor>& flips,
                                     std::optional<double> scale,
                                     std::optional<at::ArrayRef<double>> mean,
                                     std::optional<at::ArrayRef<double>> std, bool antialias,
                                     at::ScalarType out_dtype) {
  return run_batch_cuda(videos.vec(), layout, frame_indices, sizes, crop_offsets, crop_size, flips,
                        scale, mean, std, antialias, out_dtype, /*expect_channels=*/-1);
}

at::Tensor clip_transform_batch_packed_cuda(
    const at::Tensor& buffer, const at::Tensor& offsets, const at::Tensor& shapes,
    const at::Tensor& strides, c10::string_view layout, int64_t channels,
    const at::Tensor& frame_indices, const std::optional<at::Tensor>& sizes,
    const std::optional<at::Tensor>& crop_offsets, at::IntArrayRef crop_size,
    const std::optional<at::Tensor>& flips, std::optional<double> scale,
    std::optional<at::ArrayRef<double>> mean, std::optional<at::ArrayRef<double>> std,
    bool antialias, at::ScalarType out_dtype) {
  const std::vector<at::Tensor> views = packed_clip_views(kOp, buffer, offsets, shapes, strides);
  return run_batch_cuda(views, layout, frame_indices, sizes, crop_offsets, crop_size, flips, scale,
                        mean, std, antialias, out_dtype, channels);
}

}  // namespace

TORCH_LIBRARY_IMPL(fastvid, CUDA, m) {
  m.impl("clip_transform_batch", &clip_transform_batch_cuda);
  m.impl("clip_transform_batch_packed", &clip_transform_batch_packed_cuda);
}

}  // namespace fastvid
