// Host metadata of the CUDA clip_transform launch (see clip_transform_meta.h). Compiled by the host
// compiler in every build: the CUDA launcher and the host emulation of the kernel share it.
#include "ops/cuda/clip_transform_meta.h"

#include <c10/core/ScalarType.h>

#include <cstring>
#include <limits>

#include "common/checks.h"

namespace fastvid {
namespace cuda {

namespace {

int64_t align_up(int64_t n, int64_t align) {
  return (n + align - 1) / align * align;
}

// Appends one axis's taps (first source position + shift, and weights) at firsts / weights, both
// advanced past them; pad2 turns a 1-tap axis into 2 taps with a zero-weight in-range neighbour.
// Returns the taps per position written.
int64_t append_axis(const AxisTaps& axis, int64_t n, int64_t shift, int64_t in_size, bool pad2,
                    int32_t*& firsts, float*& weights) {
  const int64_t taps = axis.taps;
  if (pad2 && taps == 1) {
    for (int64_t o = 0; o < n; ++o) {
      const int64_t f = axis.first[o] + shift;
      const float w = axis.weight[o];
      const bool last = f + 1 >= in_size;  // the neighbour goes before the pixel
      *firsts++ = static_cast<int32_t>(last ? f - 1 : f);
      *weights++ = last ? 0.0f : w;
      *weights++ = last ? w : 0.0f;
    }
    return 2;
  }
  for (int64_t o = 0; o < n; ++o) {
    *firsts++ = static_cast<int32_t>(axis.first[o] + shift);
  }
  std::memcpy(weights, axis.weight.data(), n * taps * sizeof(float));
  weights += n * taps;
  return taps;
}

}  // namespace

KernelMeta plan_kernel_meta(const std::vector<PreparedClip>& clips) {
  KernelMeta m;
  m.batch = static_cast<int64_t>(clips.size());
  // Bilinear without antialias gives 1 or 2 taps per axis. uint8 clips whose axes all have 2 taps,
  // or 1 tap and at least 2 pixels (padded with a zero-weight neighbour: w * s + 0 * s' == w * s for
  // the finite values uint8 gives), run the fully unrolled 2 x 2 kernel.
  m.taps2 = clips.front().video.scalar_type() == at::kByte;
  for (const PreparedClip& c : clips) {
    m.taps2 = m.taps2 && c.rows.taps <= 2 && c.cols.taps <= 2 && c.args.in_h >= 2 && c.args.in_w >= 2;
  }
  for (const PreparedClip& c : clips) {
    FASTVID_CHECK_VALUE(c.args.in_h < std::numeric_limits<int32_t>::max() &&
                            c.args.in_w < std::numeric_limits<int32_t>::max(),
                        "clip_transform", "frames of ", c.args.in_h, "x", c.args.in_w,
                        " pixels are too large for the CUDA kernel");
    m.n_frames += c.args.out_t;
    m.n_firsts += c.args.crop_h + c.args.crop_w;
    m.n_weights += c.args.crop_h * (m.taps2 ? 2 : c.rows.taps) +
                   c.args.crop_w * (m.taps2 ? 2 : c.cols.taps);
  }
  m.frames_at = align_up(m.batch * static_cast<int64_t>(sizeof(CudaClipDesc)), 16);
  m.firsts_at = m.frames_at + align_up(m.n_frames * 8, 16);
  m.weights_at = m.firsts_at + align_up(m.n_firsts * 4, 16);
  m.total = m.weights_at + align_up(m.n_weights * 4, 16);
  return m;
}

void fill_kernel_meta(const std::vector<PreparedClip>& clips, const KernelMeta& meta, uint8_t* base) {
  auto* descs = reinterpret_cast<CudaClipDesc*>(base);
  auto* frames = reinterpret_cast<int64_t*>(base + meta.frames_at);
  int32_t* const firsts0 = reinterpret_cast<int32_t*>(base + meta.firsts_at);
  float* const weights0 = reinterpret_cast<float*>(base + meta.weights_at);
  int32_t* firsts = firsts0;
  float* weights = weights0;
  int64_t fo = 0;
  for (int64_t b = 0; b < meta.batch; ++b) {
    const PreparedClip& c = clips[b];
    CudaClipDesc d;
    d.src = c.video.const_data_ptr();
    d.stride_c = c.args.stride_c;
    d.stride_t = c.args.stride_t;
    d.stride_h = c.args.stride_h;
    d.stride_w = c.args.stride_w;
    d.frame_off = fo;
    std::memcpy(frames + fo, c.frames.data(), c.frames.size() * sizeof(int64_t));
    fo += c.args.out_t;
    d.row_first_off = firsts - firsts0;
    d.row_weight_off = weights - weights0;
    d.row_taps = static_cast<int32_t>(
        append_axis(c.rows, c.args.crop_h, 0, c.args.in_h, meta.taps2, firsts, weights));
    d.col_first_off = firsts - firsts0;
    d.col_weight_off = weights - weights0;
    // column taps are relative to col_lo: back to absolute columns
    d.col_taps = static_cast<int32_t>(
        append_axis(c.cols, c.args.crop_w, c.col_lo, c.args.in_w, meta.taps2, firsts, weights));
    descs[b] = d;
  }
}

Affine kernel_affine(const ClipTransformArgs& args) {
  Affine aff;
  for (int64_t c = 0; c < kMaxChannels; ++c) {
    aff.alpha[c] = args.alpha[c];
    aff.beta[c] = args.beta[c];
  }
  return aff;
}

}  // namespace cuda
}  // namespace fastvid
