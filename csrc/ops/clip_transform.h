// clip_transform: the parameter structs and host helpers shared by its CPU and CUDA kernels.
//
// Semantics (the oracle is fastvid/reference.py): keep the frames `frame_indices`, resize each to
// `size` with bilinear interpolation (align_corners=False, as torch.nn.functional.interpolate, with or
// without antialias), take the crop (top, left, height, width) of the resized frame, flip it
// horizontally, compute (v * scale - mean_c) / std_c, and write (C, T', height, width).
//
// The resize is separable, so every output pixel is sum_i sum_j wy[i] * wx[j] * src[y0 + i, x0 + j]:
// the kernels only evaluate the rows and columns of the resized frame that fall inside the crop, and
// the affine normalization commutes with the interpolation (its weights sum to 1), so it is applied
// once to the interpolated value: out = v * alpha_c + beta_c with alpha_c = scale / std_c and
// beta_c = -mean_c / std_c.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace fastvid {

// Most channels a clip may have (gray, RGB, RGBA).
constexpr int64_t kMaxChannels = 4;

// Interpolation taps of one axis, for the output positions of the crop (already flipped when the
// axis is flipped). Output position o reads source positions first[o] .. first[o] + taps - 1 with
// weights weight[o * taps + k]; every such position lies inside the source axis.
struct AxisTaps {
  int64_t taps = 0;
  std::vector<int64_t> first;
  std::vector<float> weight;
};

// Taps of one axis resized from in_size to out_size (bilinear, align_corners=False, matching
// torch.nn.functional.interpolate's float arithmetic), for the out positions crop_start ..
// crop_start + crop_len - 1, reversed when `flip`.
inline AxisTaps compute_axis_taps(int64_t in_size, int64_t out_size, int64_t crop_start,
                                  int64_t crop_len, bool antialias, bool flip) {
  AxisTaps axis;
  const float scale = static_cast<float>(in_size) / static_cast<float>(out_size);
  if (antialias && scale > 1.0f) {
    // Triangle filter stretched by the downscale factor, weights normalized to sum 1 (as torch's
    // _upsample_bilinear2d_aa). Upscaling with antialias is plain bilinear.
    const float support = scale;  // interp_size / 2 * scale with interp_size 2
    const float inv_scale = 1.0f / scale;
    const int64_t max_taps = std::min<int64_t>(static_cast<int64_t>(std::ceil(support)) * 2 + 1, in_size);
    axis.taps = max_taps;
    axis.first.resize(crop_len);
    axis.weight.assign(crop_len * max_taps, 0.0f);
    for (int64_t i = 0; i < crop_len; ++i) {
      const int64_t o = crop_start + (flip ? crop_len - 1 - i : i);
      const float center = scale * (static_cast<float>(o) + 0.5f);
      const int64_t lo = std::max<int64_t>(static_cast<int64_t>(center - support + 0.5f), 0);
      int64_t hi = std::min<int64_t>(static_cast<int64_t>(center + support + 0.5f), in_size);
      // Place the window so that it fits inside the axis; taps outside [lo, hi) get weight 0.
      const int64_t start = std::min(lo, in_size - max_taps);
      // Float rounding of center +- support (large axes: the float spacing there exceeds a pixel) can
      // make [lo, hi) wider than max_taps; clip it, as torch does, so w[j - start] stays in the row.
      hi = std::min(hi, start + max_taps);
      float total = 0.0f;
      float* w = axis.weight.data() + i * max_taps;
      for (int64_t j = lo; j < hi; ++j) {
        const float x = (static_cast<float>(j) - center + 0.5f) * inv_scale;
        const float v = std::max(0.0f, 1.0f - std::fabs(x));
        w[j - start] = v;
        total += v;
      }
      if (total != 0.0f) {
        for (int64_t k = 0; k < max_taps; ++k) {
          w[k] /= total;
        }
      }
      axis.first[i] = start;
    }
    return axis;
  }
  if (in_size == out_size) {
    // No resize along this axis: one tap of weight 1 (bilinear would weigh the next pixel by 0).
    axis.taps = 1;
    axis.first.resize(crop_len);
    axis.weight.assign(crop_len, 1.0f);
    for (int64_t i = 0; i < crop_len; ++i) {
      axis.first[i] = crop_start + (flip ? crop_len - 1 - i : i);
    }
    return axis;
  }
  const int64_t taps = std::min<int64_t>(2, in_size);
  axis.taps = taps;
  axis.first.resize(crop_len);
  axis.weight.resize(crop_len * taps);
  for (int64_t i = 0; i < crop_len; ++i) {
    const int64_t o = crop_start + (flip ? crop_len - 1 - i : i);
    float src = scale * (static_cast<float>(o) + 0.5f) - 0.5f;
    src = std::max(src, 0.0f);
    const int64_t i0 = std::min(static_cast<int64_t>(std::floor(src)), in_size - 1);
    const float lambda = std::min(std::max(src - static_cast<float>(i0), 0.0f), 1.0f);
    float* w = axis.weight.data() + i * taps;
    if (taps == 1) {
      axis.first[i] = 0;
      w[0] = 1.0f;
    } else if (i0 == in_size - 1) {
      // torch reads the last pixel twice here; one tap of weight 1 on it is the same value.
      axis.first[i] = in_size - 2;
      w[0] = 0.0f;
      w[1] = 1.0f;
    } else {
      axis.first[i] = i0;
      w[0] = 1.0f - lambda;
      w[1] = lambda;
    }
  }
  return axis;
}

// Everything a kernel needs for one clip, on raw pointers and plain numbers.
struct ClipTransformParams {
  // Source clip, as logical (C, T, H, W) element strides; 64-bit throughout.
  int64_t channels = 0;
  int64_t in_h = 0;
  int64_t in_w = 0;
  int64_t stride_c = 0;
  int64_t stride_t = 0;
  int64_t stride_h = 0;
  int64_t stride_w = 0;
  // Output (C, T', out_h, out_w), contiguous.
  int64_t out_t = 0;
  int64_t out_h = 0;
  int64_t out_w = 0;
  const int64_t* frame_index = nullptr;  // out_t source frame numbers
  // Row taps (out_h positions) and column taps (out_w positions, relative to col_lo).
  int64_t row_taps = 0;
  const int64_t* row_first = nullptr;
  const float* row_weight = nullptr;
  int64_t col_taps = 0;
  const int64_t* col_first = nullptr;  // relative to col_lo
  const float* col_weight = nullptr;
  int64_t col_lo = 0;     // first source column any output pixel reads
  int64_t col_count = 0;  // number of source columns read: col_lo .. col_lo + col_count - 1
  // out = v * alpha[c] + beta[c]; with round_to_uint8, v is rounded and clamped to 0..255 instead.
  float alpha[kMaxChannels] = {1.0f, 1.0f, 1.0f, 1.0f};
  float beta[kMaxChannels] = {0.0f, 0.0f, 0.0f, 0.0f};
};

}  // namespace fastvid
