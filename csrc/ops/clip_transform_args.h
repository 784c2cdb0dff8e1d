// clip_transform: argument checks and their result, shared by the CPU and CUDA wrappers (and by the
// batched op, clip by clip). Every failure raises ValueError or TypeError with the op, the argument,
// what was expected and what came.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/util/ArrayRef.h>
#include <c10/util/OptionalArrayRef.h>
#include <c10/util/string_view.h>

#include <cmath>
#include <cstdint>
#include <optional>
#include <vector>

#include "common/checks.h"
#include "ops/clip_transform.h"

namespace fastvid {

struct ClipTransformArgs {
  bool thwc = false;  // layout
  int64_t channels = 0;
  int64_t in_t = 0;
  int64_t in_h = 0;
  int64_t in_w = 0;
  // logical (C, T, H, W) element strides
  int64_t stride_c = 0;
  int64_t stride_t = 0;
  int64_t stride_h = 0;
  int64_t stride_w = 0;
  int64_t out_t = 0;   // frames kept
  int64_t size_h = 0;  // resized frame
  int64_t size_w = 0;
  int64_t crop_top = 0;
  int64_t crop_left = 0;
  int64_t crop_h = 0;
  int64_t crop_w = 0;
  bool affine = false;  // normalize: out = v * alpha[c] + beta[c]
  float alpha[kMaxChannels] = {1.0f, 1.0f, 1.0f, 1.0f};
  float beta[kMaxChannels] = {0.0f, 0.0f, 0.0f, 0.0f};
};

// Checks the arguments of one clip (`op` names the op in messages). The frame indices' device is not
// checked here: the CPU wrapper reads them on the host, the CUDA wrapper moves them.
inline ClipTransformArgs check_clip_transform_args(
    const char* op, const at::Tensor& video, c10::string_view layout,
    const std::optional<at::Tensor>& frame_indices, at::OptionalIntArrayRef size,
    at::OptionalIntArrayRef crop, bool /*flip*/, std::optional<double> scale,
    std::optional<at::ArrayRef<double>> mean, std::optional<at::ArrayRef<double>> std,
    at::ScalarType out_dtype) {
  ClipTransformArgs a;
  FASTVID_CHECK_VALUE(layout == "CTHW" || layout == "THWC", op,
                      "layout must be \"CTHW\" or \"THWC\", got \"", std::string(layout), "\"");
  a.thwc = layout == "THWC";
  FASTVID_CHECK_TYPE(video.scalar_type() == at::kByte || video.scalar_type() == at::kFloat, op,
                     "video must be uint8 or float32, got ", video.scalar_type());
  FASTVID_CHECK_VALUE(video.dim() == 4, op, "video must have 4 dimensions (", std::string(layout),
                      "), got ", video.dim(), " with shape ", video.sizes());
  const int cdim = a.thwc ? 3 : 0;
  const int tdim = a.thwc ? 0 : 1;
  const int hdim = a.thwc ? 1 : 2;
  const int wdim = a.thwc ? 2 : 3;
  a.channels = video.size(cdim);
  a.in_t = video.size(tdim);
  a.in_h = video.size(hdim);
  a.in_w = video.size(wdim);
  a.stride_c = video.stride(cdim);
  a.stride_t = video.stride(tdim);
  a.stride_h = video.stride(hdim);
  a.stride_w = video.stride(wdim);
  FASTVID_CHECK_VALUE(a.channels >= 1 && a.channels <= kMaxChannels, op,
                      "video must have 1 to ", kMaxChannels, " channels in dimension ", cdim,
                      " of layout ", std::string(layout), ", got ", a.channels, " (shape ",
                      video.sizes(), "; is the layout right?)");
  FASTVID_CHECK_VALUE(a.in_t > 0 && a.in_h > 0 && a.in_w > 0, op,
                      "video must have at least one frame of at least 1x1 pixels, got shape ",
                      video.sizes(), " (", std::string(layout), ")");

  if (frame_indices.has_value()) {
    const at::Tensor& fi = *frame_indices;
    FASTVID_CHECK_TYPE(fi.scalar_type() == at::kLong || fi.scalar_type() == at::kInt, op,
                       "frame_indices must be int64 or int32, got ", fi.scalar_type());
    FASTVID_CHECK_VALUE(fi.dim() == 1, op, "frame_indices must be 1-D, got shape ", fi.sizes());
    FASTVID_CHECK_VALUE(fi.numel() > 0, op, "frame_indices must not be empty");
    a.out_t = fi.numel();
  } else {
    a.out_t = a.in_t;
  }

  a.size_h = a.in_h;
  a.size_w = a.in_w;
  if (size.has_value()) {
    FASTVID_CHECK_VALUE(size->size() == 2, op, "size must be (height, width), got ", *size);
    FASTVID_CHECK_VALUE((*size)[0] > 0 && (*size)[1] > 0, op,
                        "size must be positive (height, width), got ", *size);
    a.size_h = (*size)[0];
    a.size_w = (*size)[1];
  }
  a.crop_h = a.size_h;
  a.crop_w = a.size_w;
  if (crop.has_value()) {
    FASTVID_CHECK_VALUE(crop->size() == 4, op, "crop must be (top, left, height, width), got ", *crop);
    const int64_t top = (*crop)[0], left = (*crop)[1], h = (*crop)[2], w = (*crop)[3];
    FASTVID_CHECK_VALUE(h > 0 && w > 0, op, "crop height and width must be positive, got crop ",
                        *crop);
    FASTVID_CHECK_VALUE(top >= 0 && left >= 0 && top <= a.size_h - h && left <= a.size_w - w, op,
                        "crop ", *crop, " (top, left, height, width) does not fit the resized frame ",
                        a.size_h, "x", a.size_w);
    a.crop_top = top;
    a.crop_left = left;
    a.crop_h = h;
    a.crop_w = w;
  }

  a.affine = scale.has_value() || mean.has_value() || std.has_value();
  FASTVID_CHECK_TYPE(out_dtype == at::kFloat || out_dtype == at::kBFloat16 ||
                         out_dtype == at::kHalf || out_dtype == at::kByte,
                     op, "out_dtype must be float32, bfloat16, float16 or uint8, got ", out_dtype);
  FASTVID_CHECK_VALUE(!(out_dtype == at::kByte && a.affine), op,
                      "out_dtype uint8 needs scale, mean and std all None (uint8 output is the "
                      "resized, cropped pixel values, rounded)");
  const double s = scale.value_or(1.0);
  FASTVID_CHECK_VALUE(std::isfinite(s), op, "scale must be finite, got ", s);
  if (mean.has_value()) {
    FASTVID_CHECK_VALUE(static_cast<int64_t>(mean->size()) == a.channels, op, "mean must have ",
                        a.channels, " values (one per channel), got ", mean->size());
  }
  if (std.has_value()) {
    FASTVID_CHECK_VALUE(static_cast<int64_t>(std->size()) == a.channels, op, "std must have ",
                        a.channels, " values (one per channel), got ", std->size());
  }
  for (int64_t c = 0; c < a.channels; ++c) {
    const double m = mean.has_value() ? (*mean)[c] : 0.0;
    const double sd = std.has_value() ? (*std)[c] : 1.0;
    FASTVID_CHECK_VALUE(std::isfinite(m), op, "mean must be finite, got ", m, " for channel ", c);
    FASTVID_CHECK_VALUE(std::isfinite(sd) && sd != 0.0, op,
                        "std must be finite and non-zero, got ", sd, " for channel ", c);
    a.alpha[c] = static_cast<float>(s / sd);
    a.beta[c] = static_cast<float>(-m / sd);
  }
  return a;
}

// The kept frame numbers on the host, each checked against the clip's length (`op` names the op in
// messages).
inline std::vector<int64_t> frame_index_vector(const char* op, const ClipTransformArgs& a,
                                               const std::optional<at::Tensor>& frame_indices) {
  std::vector<int64_t> frames(a.out_t);
  if (!frame_indices.has_value()) {
    for (int64_t t = 0; t < a.out_t; ++t) {
      frames[t] = t;
    }
    return frames;
  }
  const at::Tensor fi = frame_indices->to(at::kCPU, at::kLong).contiguous();
  const int64_t* f = fi.const_data_ptr<int64_t>();
  for (int64_t t = 0; t < a.out_t; ++t) {
    FASTVID_CHECK_VALUE(f[t] >= 0 && f[t] < a.in_t, op,
                        "frame_indices[", t, "] = ", f[t], " is out of range for a clip of ", a.in_t,
                        " frames");
    frames[t] = f[t];
  }
  return frames;
}

// The plain-number part of the kernel parameters (the caller fills in frames and taps).
inline ClipTransformParams make_params(const ClipTransformArgs& a) {
  ClipTransformParams p;
  p.channels = a.channels;
  p.in_h = a.in_h;
  p.in_w = a.in_w;
  p.stride_c = a.stride_c;
  p.stride_t = a.stride_t;
  p.stride_h = a.stride_h;
  p.stride_w = a.stride_w;
  p.out_t = a.out_t;
  p.out_h = a.crop_h;
  p.out_w = a.crop_w;
  for (int64_t c = 0; c < kMaxChannels; ++c) {
    p.alpha[c] = a.alpha[c];
    p.beta[c] = a.beta[c];
  }
  return p;
}

}  // namespace fastvid
