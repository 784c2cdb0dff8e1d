// CPU clip_transform_batch (list of clips, or one packed buffer): the batch is checked clip by clip
// with clip_transform's own checks (ops/clip_transform_batch.h), then every clip runs through the
// CPU clip_transform kernel itself (redispatched straight to the CPU key) and lands in its slice of
// the (B, C, T', h, w) output. With at least as many clips as threads, clips run in parallel (one
// per task); with fewer, one after the other, each parallel over its own rows. So batched ==
// clip-by-clip by construction, and the CPU kernel's speed-ups apply here unchanged.
#include <ATen/Parallel.h>
#include <ATen/core/Tensor.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/ops/empty.h>
#include <torch/library.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "ops/clip_transform_batch.h"

namespace fastvid {

namespace {

constexpr const char* kOp = "clip_transform_batch";

using ClipTransformFn = at::Tensor(const at::Tensor&, c10::string_view,
                                   const std::optional<at::Tensor>&, at::OptionalIntArrayRef,
                                   at::OptionalIntArrayRef, bool, std::optional<double>,
                                   std::optional<at::ArrayRef<double>>,
                                   std::optional<at::ArrayRef<double>>, bool, at::ScalarType);

// One clip through the single-clip CPU op, written into its slice of the batch output.
void run_clip(const c10::TypedOperatorHandle<ClipTransformFn>& op, const PreparedClip& c,
              c10::string_view layout, const std::optional<at::Tensor>& frame_row,
              std::optional<double> scale, std::optional<at::ArrayRef<double>> mean,
              std::optional<at::ArrayRef<double>> std, bool antialias, at::ScalarType out_dtype,
              bool flip, at::Tensor out_b) {
  const ClipTransformArgs& a = c.args;
  const std::vector<int64_t> size = {a.size_h, a.size_w};
  const std::vector<int64_t> crop = {a.crop_top, a.crop_left, a.crop_h, a.crop_w};
  out_b.copy_(op.redispatch(c10::DispatchKeySet(c10::DispatchKey::CPU), c.video, layout, frame_row,
                            size, crop, flip, scale, mean, std, antialias, out_dtype));
}

at::Tensor run_batch_cpu(const std::vector<at::Tensor>& videos, c10::string_view layout,
                         const std::optional<at::Tensor>& frame_indices,
                         const std::optional<at::Tensor>& sizes,
                         const std::optional<at::Tensor>& crop_offsets, at::IntArrayRef crop_size,
                         const std::optional<at::Tensor>& flips, std::optional<double> scale,
                         std::optional<at::ArrayRef<double>> mean,
                         std::optional<at::ArrayRef<double>> std, bool antialias,
                         at::ScalarType out_dtype, int64_t expect_channels) {
  // checks (every clip with clip_transform's checks) and taps
  const std::vector<PreparedClip> clips =
      prepare_batch(kOp, videos, layout, frame_indices, sizes, crop_offsets, crop_size, flips, scale,
                    mean, std, antialias, out_dtype);
  check_batch_channels(kOp, clips, expect_channels);
  const at::Tensor& v0 = clips.front().video;
  FASTVID_CHECK_VALUE(v0.device().is_cpu(), kOp, "the CPU kernel got clips on ", v0.device(),
                      " (a per-clip argument tensor on another device than the clips sends the call "
                      "to that device's kernel; keep them on the CPU)");
  // allocate the output; strides are read in place (no .contiguous() copies)
  at::Tensor out = at::empty(batch_out_shape(clips), v0.options().dtype(out_dtype));
  if (out.numel() == 0) {
    return out;
  }
  static const auto op = c10::Dispatcher::singleton()
                              .findSchemaOrThrow("fastvid::clip_transform", "")
                              .typed<ClipTransformFn>();
  std::optional<at::Tensor> fi;
  if (frame_indices.has_value()) {
    fi = frame_indices->to(at::kCPU, at::kLong);
  }
  std::vector<bool> flip_of(clips.size(), false);
  if (flips.has_value()) {
    const at::Tensor fl = flips->to(at::kCPU, at::kLong).contiguous();
    for (size_t b = 0; b < clips.size(); ++b) {
      flip_of[b] = fl.const_data_ptr<int64_t>()[b] != 0;
    }
  }
  const int64_t batch = static_cast<int64_t>(clips.size());
  auto one = [&](int64_t b) {
    std::optional<at::Tensor> row;
    if (fi.has_value()) {
      row = fi->select(0, b);
    }
    run_clip(op, clips[b], layout, row, scale, mean, std, antialias, out_dtype, flip_of[b],
             out.select(0, b));
  };
  if (batch >= at::get_num_threads()) {
    // Enough clips for every thread: one clip per task (each clip's op then runs on one thread).
    at::parallel_for(0, batch, 1, [&](int64_t begin, int64_t end) {
      for (int64_t b = begin; b < end; ++b) {
        one(b);
      }
    });
  } else {
    // Few clips: one after the other, each op parallel over its own rows.
    for (int64_t b = 0; b < batch; ++b) {
      one(b);
    }
  }
  return out;
}

at::Tensor clip_transform_batch_cpu(at::TensorList videos, c10::string_view layout,
                                    const std::optional<at::Tensor>& frame_indices,
                                    const std::optional<at::Tensor>& sizes,
                                    const std::optional<at::Tensor>& crop_offsets,
                                    at::IntArrayRef crop_size,
                                    const std::optional<at::Tensor>& flips,
                                    std::optional<double> scale,
                                    std::optional<at::ArrayRef<double>> mean,
                                    std::optional<at::ArrayRef<double>> std, bool antialias,
                                    at::ScalarType out_dtype) {
  return run_batch_cpu(videos.vec(), layout, frame_indices, sizes, crop_offsets, crop_size, flips,
                       scale, mean, std, antialias, out_dtype, /*expect_channels=*/-1);
}

at::Tensor clip_transform_batch_packed_cpu(
    const at::Tensor& buffer, const at::Tensor& offsets, const at::Tensor& shapes,
    const at::Tensor& strides, c10::string_view layout, int64_t channels,
    const at::Tensor& frame_indices, const std::optional<at::Tensor>& sizes,
    const std::optional<at::Tensor>& crop_offsets, at::IntArrayRef crop_size,
    const std::optional<at::Tensor>& flips, std::optional<double> scale,
    std::optional<at::ArrayRef<double>> mean, std::optional<at::ArrayRef<double>> std,
    bool antialias, at::ScalarType out_dtype) {
  const std::vector<at::Tensor> views = packed_clip_views(kOp, buffer, offsets, shapes, strides);
  return run_batch_cpu(views, layout, frame_indices, sizes, crop_offsets, crop_size, flips, scale,
                       mean, std, antialias, out_dtype, channels);
}

}  // namespace

TORCH_LIBRARY_IMPL(fastvid, CPU, m) {
  m.impl("clip_transform_batch", &clip_transform_batch_cpu);
  m.impl("clip_transform_batch_packed", &clip_transform_batch_packed_cpu);
}

}  // namespace fastvid
