// clip_transform_batch: B clips of different source sizes -> one (B, C, T', h, w) output.
//
// Host-side preparation shared by the CPU and CUDA kernels (and by the CUDA single-clip op, which is
// a batch of one): every clip is checked with clip_transform's own checks (check_clip_transform_args)
// and gets its frame numbers and interpolation taps (compute_axis_taps), so that a batch computes
// exactly what clip_transform computes clip by clip.
//
// Per-clip arguments arrive as CPU (or any-device) tensors with one row per clip:
//   frame_indices (B, T') int64/int32, or None: every frame (all clips the same length);
//   sizes (B, 2) int (new_h, new_w), or None: no resize;
//   crop_offsets (B, 2) int (top, left), or None: (0, 0); crop_size (h, w) is common to the batch;
//   flips (B,) bool (or 0/1 ints), or None: no flips.
// A packed batch is one 1-D buffer plus, per clip, an element offset, a shape and strides (in the
// order `layout` names): clip b is buffer.as_strided(shapes[b], strides[b], offsets[b]).
#pragma once

#include <ATen/core/Tensor.h>
#include <ATen/ops/as_strided.h>
#include <c10/util/ArrayRef.h>
#include <c10/util/Exception.h>
#include <c10/util/OptionalArrayRef.h>
#include <c10/util/string_view.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "common/checks.h"
#include "ops/clip_transform.h"
#include "ops/clip_transform_args.h"

namespace fastvid {

// One clip, checked, with its frames and taps. Column taps are stored relative to col_lo, the first
// source column any output pixel reads (as the CPU kernel wants them).
struct PreparedClip {
  at::Tensor video;  // the clip (a view for packed batches)
  ClipTransformArgs args;
  at::ScalarType out_dtype = at::kFloat;
  std::vector<int64_t> frames;
  AxisTaps rows;
  AxisTaps cols;
  int64_t col_lo = 0;
  int64_t col_count = 0;

  // Kernel parameters pointing into this object's vectors (valid while it lives, unmoved).
  ClipTransformParams params() const {
    ClipTransformParams p = make_params(args);
    p.frame_index = frames.data();
    p.row_taps = rows.taps;
    p.row_first = rows.first.data();
    p.row_weight = rows.weight.data();
    p.col_taps = cols.taps;
    p.col_first = cols.first.data();
    p.col_weight = cols.weight.data();
    p.col_lo = col_lo;
    p.col_count = col_count;
    return p;
  }
};

// Checks one clip and computes its frames and taps.
inline PreparedClip prepare_clip(const char* op, const at::Tensor& video, c10::string_view layout,
                                 const std::optional<at::Tensor>& frame_indices,
                                 at::OptionalIntArrayRef size, at::OptionalIntArrayRef crop, bool flip,
                                 std::optional<double> scale,
                                 std::optional<at::ArrayRef<double>> mean,
                                 std::optional<at::ArrayRef<double>> std, bool antialias,
                                 at::ScalarType out_dtype) {
  PreparedClip c;
  c.video = video;
  c.out_dtype = out_dtype;
  c.args = check_clip_transform_args(op, video, layout, frame_indices, size, crop, flip, scale, mean,
                                     std, out_dtype);
  c.frames = frame_index_vector(op, c.args, frame_indices);
  c.rows = compute_axis_taps(c.args.in_h, c.args.size_h, c.args.crop_top, c.args.crop_h, antialias,
                             /*flip=*/false);
  c.cols = compute_axis_taps(c.args.in_w, c.args.size_w, c.args.crop_left, c.args.crop_w, antialias,
                             flip);
  int64_t lo = c.args.in_w;
  int64_t hi = 0;
  for (int64_t x = 0; x < c.args.crop_w; ++x) {
    lo = std::min(lo, c.cols.first[x]);
    hi = std::max(hi, c.cols.first[x] + c.cols.taps);
  }
  for (auto& f : c.cols.first) {
    f -= lo;
  }
  c.col_lo = lo;
  c.col_count = hi - lo;
  return c;
}

// A per-clip argument tensor on the CPU as int64, checked to be (B, cols) (cols 0: (B,)).
inline at::Tensor batch_arg_rows(const char* op, const char* name, const at::Tensor& t, int64_t batch,
                                 int64_t cols) {
  FASTVID_CHECK_TYPE(t.scalar_type() == at::kLong || t.scalar_type() == at::kInt ||
                         (cols == 0 && t.scalar_type() == at::kBool),
                     op, name, " must be an integer", cols == 0 ? " or bool" : "", " tensor, got ",
                     t.scalar_type());
  if (cols == 0) {
    FASTVID_CHECK_VALUE(t.dim() == 1 && t.size(0) == batch, op, name, " must have shape (", batch,
                        ",), one value per clip, got ", t.sizes());
  } else {
    FASTVID_CHECK_VALUE(t.dim() == 2 && t.size(0) == batch && t.size(1) == cols, op, name,
                        " must have shape (", batch, ", ", cols, "), one row per clip, got ",
                        t.sizes());
  }
  return t.to(at::kCPU, at::kLong).contiguous();
}

// A check's message without its leading "<op>: " (the batch error adds "<op>: clip b: ").
inline std::string strip_op(const char* op, const char* message) {
  std::string m(message);
  const std::string prefix = std::string(op) + ": ";
  if (m.rfind(prefix, 0) == 0) {
    m.erase(0, prefix.size());
  }
  return m;
}

// Checks every clip of a batch and prepares it. `clips` are the clip tensors (views for a packed
// batch). A failing clip's error names it: "clip_transform_batch: clip 3: ...".
inline std::vector<PreparedClip> prepare_batch(
    const char* op, const std::vector<at::Tensor>& clips, c10::string_view layout,
    const std::optional<at::Tensor>& frame_indices, const std::optional<at::Tensor>& sizes,
    const std::optional<at::Tensor>& crop_offsets, at::IntArrayRef crop_size,
    const std::optional<at::Tensor>& flips, std::optional<double> scale,
    std::optional<at::ArrayRef<double>> mean, std::optional<at::ArrayRef<double>> std,
    bool antialias, at::ScalarType out_dtype) {
  const int64_t batch = static_cast<int64_t>(clips.size());
  FASTVID_CHECK_VALUE(batch > 0, op, "the batch must hold at least one clip, got none");
  FASTVID_CHECK_VALUE(crop_size.size() == 2 && crop_size[0] > 0 && crop_size[1] > 0, op,
                      "crop_size must be two positive ints (height, width), got ", crop_size);
  std::optional<at::Tensor> fi;
  if (frame_indices.has_value()) {
    const at::Tensor& f = *frame_indices;
    FASTVID_CHECK_TYPE(f.scalar_type() == at::kLong || f.scalar_type() == at::kInt, op,
                       "frame_indices must be int64 or int32, got ", f.scalar_type());
    FASTVID_CHECK_VALUE(f.dim() == 2 && f.size(0) == batch && f.size(1) > 0, op,
                        "frame_indices must have shape (", batch,
                        ", T') with T' > 0, one row of frame numbers per clip, got ", f.sizes());
    fi = f.to(at::kCPU, at::kLong).contiguous();
  }
  at::Tensor sz, off, fl;
  if (sizes.has_value()) {
    sz = batch_arg_rows(op, "sizes", *sizes, batch, 2);
  }
  if (crop_offsets.has_value()) {
    off = batch_arg_rows(op, "crop_offsets", *crop_offsets, batch, 2);
  }
  if (flips.has_value()) {
    fl = batch_arg_rows(op, "flips", *flips, batch, 0);
  }

  std::vector<PreparedClip> out;
  out.reserve(batch);
  for (int64_t b = 0; b < batch; ++b) {
    const at::Tensor& v = clips[b];
    if (b > 0) {
      const at::Tensor& v0 = clips[0];
      FASTVID_CHECK_TYPE(v.scalar_type() == v0.scalar_type(), op,
                         "every clip must have the same dtype, clip 0 is ", v0.scalar_type(),
                         " and clip ", b, " is ", v.scalar_type());
      FASTVID_CHECK_VALUE(v.device() == v0.device(), op,
                          "every clip must be on the same device, clip 0 is on ", v0.device(),
                          " and clip ", b, " is on ", v.device());
      const int64_t cdim = layout == "THWC" ? 3 : 0;
      if (v.dim() == 4 && v0.dim() == 4) {
        FASTVID_CHECK_VALUE(v.size(cdim) == v0.size(cdim), op,
                            "every clip must have the same number of channels, clip 0 has ",
                            v0.size(cdim), " and clip ", b, " has ", v.size(cdim));
      }
    }
    std::optional<at::Tensor> row_fi;
    if (fi.has_value()) {
      row_fi = fi->select(0, b);
    }
    std::vector<int64_t> size_v, crop_v;
    at::OptionalIntArrayRef size_arg;
    if (sz.defined()) {
      const int64_t* s = sz.const_data_ptr<int64_t>() + 2 * b;
      size_v = {s[0], s[1]};
      size_arg = size_v;
    }
    const int64_t* o = off.defined() ? off.const_data_ptr<int64_t>() + 2 * b : nullptr;
    crop_v = {o ? o[0] : 0, o ? o[1] : 0, crop_size[0], crop_size[1]};
    const bool flip = fl.defined() && fl.const_data_ptr<int64_t>()[b] != 0;
    try {
      out.push_back(prepare_clip(op, v, layout, row_fi, size_arg, crop_v, flip, scale, mean, std,
                                 antialias, out_dtype));
    } catch (const c10::ValueError& e) {
      TORCH_CHECK_VALUE(false, op, ": clip ", b, ": ", strip_op(op, e.what_without_backtrace()));
    } catch (const c10::TypeError& e) {
      TORCH_CHECK_TYPE(false, op, ": clip ", b, ": ", strip_op(op, e.what_without_backtrace()));
    }
    const ClipTransformArgs& a = out.back().args;
    const ClipTransformArgs& a0 = out.front().args;
    FASTVID_CHECK_VALUE(a.channels == a0.channels, op,
                        "every clip must have the same number of channels, clip 0 has ",
                        a0.channels, " and clip ", b, " has ", a.channels);
    FASTVID_CHECK_VALUE(a.out_t == a0.out_t, op,
                        "every clip must give the same number of frames, clip 0 gives ", a0.out_t,
                        " and clip ", b, " gives ", a.out_t,
                        " (pass frame_indices to pick the same number from each)");
  }
  return out;
}

// The clips of a packed batch as views of `buffer` (1-D, contiguous), each checked to lie inside it.
inline std::vector<at::Tensor> packed_clip_views(const char* op, const at::Tensor& buffer,
                                                 const at::Tensor& offsets,
                                                 const at::Tensor& shapes,
                                                 const at::Tensor& strides) {
  FASTVID_CHECK_VALUE(buffer.dim() == 1 && buffer.is_contiguous(), op,
                      "buffer must be a contiguous 1-D tensor, got shape ", buffer.sizes(),
                      " with strides ", buffer.strides());
  FASTVID_CHECK_VALUE(offsets.dim() == 1, op,
                      "offsets must be 1-D (one element offset per clip), got shape ",
                      offsets.sizes());
  const int64_t batch = offsets.size(0);
  const at::Tensor off = batch_arg_rows(op, "offsets", offsets, batch, 0);
  const at::Tensor shp = batch_arg_rows(op, "shapes", shapes, batch, 4);
  const at::Tensor str = batch_arg_rows(op, "strides", strides, batch, 4);
  const int64_t n = buffer.numel();
  std::vector<at::Tensor> clips;
  clips.reserve(batch);
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t o = off.const_data_ptr<int64_t>()[b];
    const int64_t* sh = shp.const_data_ptr<int64_t>() + 4 * b;
    const int64_t* st = str.const_data_ptr<int64_t>() + 4 * b;
    // The last element the view reaches, with overflow checks: descriptors come from the caller, and
    // a product that wraps around would pass the bounds check below (saturates at INT64_MAX).
    int64_t last = o;
    bool wrapped = false;
    for (int d = 0; d < 4; ++d) {
      FASTVID_CHECK_VALUE(sh[d] > 0, op, "clip ", b, ": shapes[", b,
                          "] must be positive, got (", sh[0], ", ", sh[1], ", ", sh[2], ", ", sh[3],
                          ")");
      FASTVID_CHECK_VALUE(st[d] >= 0, op, "clip ", b, ": strides[", b,
                          "] must not be negative, got (", st[0], ", ", st[1], ", ", st[2], ", ",
                          st[3], ")");
      int64_t step = 0;
      wrapped = wrapped || __builtin_mul_overflow(sh[d] - 1, st[d], &step) ||
                __builtin_add_overflow(last, step, &last);
    }
    if (wrapped) {
      last = std::numeric_limits<int64_t>::max();
    }
    FASTVID_CHECK_VALUE(o >= 0 && last < n, op, "clip ", b, ": offset ", o, " with shape (", sh[0],
                        ", ", sh[1], ", ", sh[2], ", ", sh[3], ") and strides (", st[0], ", ", st[1],
                        ", ", st[2], ", ", st[3], ") reaches element ", last,
                        ", outside the buffer of ", n, " elements");
    clips.push_back(at::as_strided(buffer, {sh[0], sh[1], sh[2], sh[3]},
                                   {st[0], st[1], st[2], st[3]}, buffer.storage_offset() + o));
  }
  return clips;
}

// The packed op states the channel count (its output shape must be known without reading the
// descriptors); it must be what the clips have. expect < 0: no check.
inline void check_batch_channels(const char* op, const std::vector<PreparedClip>& clips,
                                 int64_t expect) {
  if (expect >= 0) {
    FASTVID_CHECK_VALUE(clips.front().args.channels == expect, op, "channels is ", expect,
                        " but the clips have ", clips.front().args.channels);
  }
}

// Every clip of the batch as (B, C, T', h, w) output dims.
inline std::vector<int64_t> batch_out_shape(const std::vector<PreparedClip>& clips) {
  const ClipTransformArgs& a = clips.front().args;
  return {static_cast<int64_t>(clips.size()), a.channels, a.out_t, a.crop_h, a.crop_w};
}

constexpr const char* kBatchOp = "clip_transform_batch";

// A device's batched kernel: the prepared, checked clips (at least one) -> the (B, C, T', h, w)
// output. It checks the clips' device, sets its device guard, allocates and runs.
using BatchKernel = at::Tensor (*)(const std::vector<PreparedClip>&);

// The clip_transform_batch entry point (a list of clips) over a device's kernel.
template <BatchKernel kernel>
at::Tensor clip_transform_batch_entry(at::TensorList videos, c10::string_view layout,
                                      const std::optional<at::Tensor>& frame_indices,
                                      const std::optional<at::Tensor>& sizes,
                                      const std::optional<at::Tensor>& crop_offsets,
                                      at::IntArrayRef crop_size,
                                      const std::optional<at::Tensor>& flips,
                                      std::optional<double> scale,
                                      std::optional<at::ArrayRef<double>> mean,
                                      std::optional<at::ArrayRef<double>> std, bool antialias,
                                      at::ScalarType out_dtype) {
  return kernel(prepare_batch(kBatchOp, videos.vec(), layout, frame_indices, sizes, crop_offsets,
                              crop_size, flips, scale, mean, std, antialias, out_dtype));
}

// The clip_transform_batch_packed entry point (one packed buffer) over a device's kernel.
template <BatchKernel kernel>
at::Tensor clip_transform_batch_packed_entry(
    const at::Tensor& buffer, const at::Tensor& offsets, const at::Tensor& shapes,
    const at::Tensor& strides, c10::string_view layout, int64_t channels,
    const at::Tensor& frame_indices, const std::optional<at::Tensor>& sizes,
    const std::optional<at::Tensor>& crop_offsets, at::IntArrayRef crop_size,
    const std::optional<at::Tensor>& flips, std::optional<double> scale,
    std::optional<at::ArrayRef<double>> mean, std::optional<at::ArrayRef<double>> std,
    bool antialias, at::ScalarType out_dtype) {
  const std::vector<at::Tensor> views =
      packed_clip_views(kBatchOp, buffer, offsets, shapes, strides);
  const std::vector<PreparedClip> clips =
      prepare_batch(kBatchOp, views, layout, frame_indices, sizes, crop_offsets, crop_size, flips,
                    scale, mean, std, antialias, out_dtype);
  check_batch_channels(kBatchOp, clips, channels);
  return kernel(clips);
}

}  // namespace fastvid
