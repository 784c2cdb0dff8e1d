// CUDA clip_transform: the kernel, its launcher (shared with the batched ops, which are the same
// kernel over B clips) and the single-clip wrapper registered for the CUDA key.
//
// Host: every clip is checked with clip_transform's own checks and gets its frame numbers and
// interpolation taps from compute_axis_taps (ops/clip_transform_batch.h), exactly as on the CPU, so
// both devices use bit-identical weights. Descriptors, frames and taps of the whole batch go into
// one pinned host block and reach the device in one asynchronous copy on the current stream.
//
// Device: one thread per output pixel (clip b, frame t, row y, column x), computing all C channels.
// A block is 32 x 8 threads over (x, y) of one (b, t), so a warp writes 32 consecutive values of a
// (C, T', h, w) plane per channel: coalesced 128-byte stores for float32. The thread reads its
// row_taps x col_taps source pixels (2 x 2 for bilinear) through the read-only cache, in the same
// order as the CPU kernel (vertical taps first, then horizontal), then normalizes once:
// out = v * alpha_c + beta_c. The source is read in place with its own strides (THWC, CTHW, any
// view); the taps guarantee every read lies inside the clip. Offsets are 64-bit.
#include <ATen/core/Tensor.h>
#include <c10/cuda/CUDAStream.h>
#include <ATen/ops/empty.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAException.h>
#include <torch/library.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "common/checks.h"
#include "common/cuda_utils.cuh"
#include "ops/clip_transform.h"
#include "ops/clip_transform_args.h"
#include "ops/clip_transform_batch.h"
#include "ops/cuda/clip_transform_cuda.h"

namespace fastvid {

namespace {

constexpr int kBlockX = 32;
constexpr int kBlockY = 8;
constexpr int64_t kMaxGridYZ = 65535;

// One clip as the kernel sees it. Offsets index the batch's frames / firsts / weights arrays.
struct CudaClipDesc {
  const void* src;  // element (0, 0, 0, 0) of the clip in logical (C, T, H, W)
  int64_t stride_c;
  int64_t stride_t;
  int64_t stride_h;
  int64_t stride_w;
  int64_t frame_off;       // frames[frame_off + t]
  int64_t row_first_off;   // firsts[row_first_off + y]: first source row of output row y
  int64_t col_first_off;   // firsts[col_first_off + x]: first source column of output column x
  int64_t row_weight_off;  // weights[row_weight_off + y * row_taps + i]
  int64_t col_weight_off;  // weights[col_weight_off + x * col_taps + j]
  int32_t row_taps;
  int32_t col_taps;
};

struct Affine {
  float alpha[kMaxChannels];
  float beta[kMaxChannels];
};

// kTaps 2: every clip has exactly 2 x 2 taps (bilinear; the host pads 1-tap axes with a zero-weight
// neighbour), so the tap loops unroll completely. kTaps 0: any number of taps per clip (antialias).
template <typename in_t, typename out_t, int kTaps>
__global__ void __launch_bounds__(kBlockX* kBlockY)
    clip_transform_kernel(const CudaClipDesc* __restrict__ clips, const int64_t* __restrict__ frames,
                          const int32_t* __restrict__ firsts, const float* __restrict__ weights,
                          out_t* __restrict__ out, int64_t num_bt, int64_t out_t_len, int channels,
                          int64_t out_h, int64_t out_w, Affine aff) {
  const int64_t x = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (x >= out_w) {
    return;
  }
  const int64_t plane = out_t_len * out_h * out_w;  // elements between two output channels
  for (int64_t bt = blockIdx.z; bt < num_bt; bt += gridDim.z) {
    const int64_t b = bt / out_t_len;
    const int64_t t = bt - b * out_t_len;
    const CudaClipDesc* d = clips + b;
    const int64_t sc = __ldg(&d->stride_c);
    const int64_t sh = __ldg(&d->stride_h);
    const int64_t sw = __ldg(&d->stride_w);
    const int row_taps = kTaps > 0 ? kTaps : __ldg(&d->row_taps);
    const int col_taps = kTaps > 0 ? kTaps : __ldg(&d->col_taps);
    const int64_t frame = __ldg(frames + __ldg(&d->frame_off) + t);
    const in_t* src = static_cast<const in_t*>(d->src) + frame * __ldg(&d->stride_t);
    const int64_t cx = __ldg(firsts + __ldg(&d->col_first_off) + x);
    const float* wx = weights + __ldg(&d->col_weight_off) + x * col_taps;
    const int32_t* row_first = firsts + __ldg(&d->row_first_off);
    const float* row_weight = weights + __ldg(&d->row_weight_off);
    out_t* out_bt = out + (b * channels * out_t_len + t) * out_h * out_w + x;
    for (int64_t y = static_cast<int64_t>(blockIdx.y) * blockDim.y + threadIdx.y; y < out_h;
         y += static_cast<int64_t>(gridDim.y) * blockDim.y) {
      const int64_t ry = __ldg(row_first + y);
      const float* wy = row_weight + y * row_taps;
      const in_t* s0 = src + ry * sh + cx * sw;
      float acc[kMaxChannels] = {0.0f, 0.0f, 0.0f, 0.0f};
#pragma unroll(kTaps > 0 ? kTaps : 1)
      for (int j = 0; j < col_taps; ++j) {
        // Vertical pass over source column cx + j, then its horizontal weight (the CPU's order).
        const in_t* s = s0 + j * sw;
        float v[kMaxChannels] = {0.0f, 0.0f, 0.0f, 0.0f};
#pragma unroll(kTaps > 0 ? kTaps : 1)
        for (int i = 0; i < row_taps; ++i) {
          const float w = __ldg(wy + i);
          const in_t* p = s + i * sh;
#pragma unroll
          for (int c = 0; c < kMaxChannels; ++c) {
            if (c < channels) {
              v[c] += w * cuda::load_float(p + c * sc);
            }
          }
        }
        const float w = __ldg(wx + j);
#pragma unroll
        for (int c = 0; c < kMaxChannels; ++c) {
          if (c < channels) {
            acc[c] += w * v[c];
          }
        }
      }
      out_t* o = out_bt + y * out_w;
#pragma unroll
      for (int c = 0; c < kMaxChannels; ++c) {
        if (c < channels) {
          o[c * plane] = cuda::store_as<out_t>(fmaf(acc[c], aff.alpha[c], aff.beta[c]));
        }
      }
    }
  }
}

// Byte offset of the next `align`-aligned position.
inline int64_t align_up(int64_t n, int64_t align) {
  return (n + align - 1) / align * align;
}

template <typename in_t, typename out_t>
void launch_typed(const CudaClipDesc* clips, const int64_t* frames, const int32_t* firsts,
                  const float* weights, out_t* out, int64_t batch, int64_t out_t_len, int channels,
                  int64_t out_h, int64_t out_w, const Affine& aff, bool taps2,
                  cudaStream_t stream) {
  const int64_t num_bt = batch * out_t_len;
  const dim3 block(kBlockX, kBlockY);
  const int64_t gx = cuda::ceil_div(out_w, kBlockX);
  FASTVID_CHECK_VALUE(gx <= std::numeric_limits<int32_t>::max(), "clip_transform",
                      "crop width ", out_w, " is too large for one launch");
  const dim3 grid(static_cast<unsigned>(gx),
                  static_cast<unsigned>(std::min(cuda::ceil_div(out_h, kBlockY), kMaxGridYZ)),
                  static_cast<unsigned>(std::min(num_bt, kMaxGridYZ)));
  if (taps2) {
    clip_transform_kernel<in_t, out_t, 2><<<grid, block, 0, stream>>>(
        clips, frames, firsts, weights, out, num_bt, out_t_len, channels, out_h, out_w, aff);
  } else {
    clip_transform_kernel<in_t, out_t, 0><<<grid, block, 0, stream>>>(
        clips, frames, firsts, weights, out, num_bt, out_t_len, channels, out_h, out_w, aff);
  }
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

template <typename in_t>
void dispatch_out(const CudaClipDesc* clips, const int64_t* frames, const int32_t* firsts,
                  const float* weights, at::Tensor& out, int64_t batch, int64_t out_t_len,
                  int channels, int64_t out_h, int64_t out_w, const Affine& aff, bool taps2,
                  cudaStream_t stream) {
  switch (out.scalar_type()) {
    case at::kFloat:
      launch_typed<in_t>(clips, frames, firsts, weights, out.data_ptr<float>(), batch, out_t_len,
                         channels, out_h, out_w, aff, taps2, stream);
      break;
    case at::kBFloat16:
      launch_typed<in_t>(clips, frames, firsts, weights, out.data_ptr<c10::BFloat16>(), batch,
                         out_t_len, channels, out_h, out_w, aff, taps2, stream);
      break;
    case at::kHalf:
      launch_typed<in_t>(clips, frames, firsts, weights, out.data_ptr<c10::Half>(), batch,
                         out_t_len, channels, out_h, out_w, aff, taps2, stream);
      break;
    case at::kByte:
      launch_typed<in_t>(clips, frames, firsts, weights, out.data_ptr<uint8_t>(), batch, out_t_len,
                         channels, out_h, out_w, aff, taps2, stream);
      break;
    default:
      TORCH_CHECK_TYPE(false, "clip_transform: unsupported out_dtype ", out.scalar_type());
  }
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

void launch_clip_transform_cuda(const std::vector<PreparedClip>& clips, at::Tensor& out) {
  if (clips.empty() || out.numel() == 0) {
    return;
  }
  const ClipTransformArgs& a0 = clips.front().args;
  const int64_t batch = static_cast<int64_t>(clips.size());
  const int64_t out_t_len = a0.out_t;
  const int64_t out_h = a0.crop_h;
  const int64_t out_w = a0.crop_w;

  // Bilinear without antialias gives 1 or 2 taps per axis. uint8 clips whose axes all have 2 taps,
  // or 1 tap and at least 2 pixels (padded with a zero-weight neighbour: w * s + 0 * s' == w * s for
  // the finite values uint8 gives), run the fully unrolled 2 x 2 kernel.
  bool taps2 = clips.front().video.scalar_type() == at::kByte;
  for (const PreparedClip& c : clips) {
    taps2 = taps2 && c.rows.taps <= 2 && c.cols.taps <= 2 && c.args.in_h >= 2 && c.args.in_w >= 2;
  }

  // Layout of the metadata block: descriptors | frames (int64) | firsts (int32) | weights (float).
  int64_t n_frames = 0, n_firsts = 0, n_weights = 0;
  for (const PreparedClip& c : clips) {
    FASTVID_CHECK_VALUE(c.args.in_h < std::numeric_limits<int32_t>::max() &&
                            c.args.in_w < std::numeric_limits<int32_t>::max(),
                        "clip_transform", "frames of ", c.args.in_h, "x", c.args.in_w,
                        " pixels are too large for the CUDA kernel");
    n_frames += c.args.out_t;
    n_firsts += c.args.crop_h + c.args.crop_w;
    n_weights += c.args.crop_h * (taps2 ? 2 : c.rows.taps) + c.args.crop_w * (taps2 ? 2 : c.cols.taps);
  }
  const int64_t desc_bytes = align_up(batch * static_cast<int64_t>(sizeof(CudaClipDesc)), 16);
  const int64_t frames_at = desc_bytes;
  const int64_t firsts_at = frames_at + align_up(n_frames * 8, 16);
  const int64_t weights_at = firsts_at + align_up(n_firsts * 4, 16);
  const int64_t total = weights_at + align_up(n_weights * 4, 16);

  at::Tensor host = at::empty({total}, at::TensorOptions().dtype(at::kByte).pinned_memory(true));
  uint8_t* base = host.data_ptr<uint8_t>();
  auto* descs = reinterpret_cast<CudaClipDesc*>(base);
  auto* frames = reinterpret_cast<int64_t*>(base + frames_at);
  int32_t* firsts = reinterpret_cast<int32_t*>(base + firsts_at);
  float* weights = reinterpret_cast<float*>(base + weights_at);
  int64_t fo = 0;
  for (int64_t b = 0; b < batch; ++b) {
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
    d.row_first_off = firsts - reinterpret_cast<int32_t*>(base + firsts_at);
    d.row_weight_off = weights - reinterpret_cast<float*>(base + weights_at);
    d.row_taps = static_cast<int32_t>(
        append_axis(c.rows, c.args.crop_h, 0, c.args.in_h, taps2, firsts, weights));
    d.col_first_off = firsts - reinterpret_cast<int32_t*>(base + firsts_at);
    d.col_weight_off = weights - reinterpret_cast<float*>(base + weights_at);
    // column taps are relative to col_lo: back to absolute columns
    d.col_taps = static_cast<int32_t>(
        append_axis(c.cols, c.args.crop_w, c.col_lo, c.args.in_w, taps2, firsts, weights));
    descs[b] = d;
  }
  Affine aff;
  for (int64_t c = 0; c < kMaxChannels; ++c) {
    aff.alpha[c] = a0.alpha[c];
    aff.beta[c] = a0.beta[c];
  }

  // One asynchronous copy on the current stream; the pinned block stays reserved until it is done.
  const at::Tensor dev = host.to(out.device(), /*non_blocking=*/true);
  const uint8_t* dbase = dev.const_data_ptr<uint8_t>();
  const auto* d_descs = reinterpret_cast<const CudaClipDesc*>(dbase);
  const auto* d_frames = reinterpret_cast<const int64_t*>(dbase + frames_at);
  const auto* d_firsts = reinterpret_cast<const int32_t*>(dbase + firsts_at);
  const auto* d_weights = reinterpret_cast<const float*>(dbase + weights_at);
  cudaStream_t stream = c10::cuda::getCurrentCUDAStream(out.device().index()).stream();
  const int channels = static_cast<int>(a0.channels);
  if (clips.front().video.scalar_type() == at::kByte) {
    dispatch_out<uint8_t>(d_descs, d_frames, d_firsts, d_weights, out, batch, out_t_len, channels,
                          out_h, out_w, aff, taps2, stream);
  } else {
    dispatch_out<float>(d_descs, d_frames, d_firsts, d_weights, out, batch, out_t_len, channels,
                        out_h, out_w, aff, taps2, stream);
  }
}

namespace {

at::Tensor clip_transform_cuda(const at::Tensor& video, c10::string_view layout,
                               const std::optional<at::Tensor>& frame_indices,
                               at::OptionalIntArrayRef size, at::OptionalIntArrayRef crop, bool flip,
                               std::optional<double> scale,
                               std::optional<at::ArrayRef<double>> mean,
                               std::optional<at::ArrayRef<double>> std, bool antialias,
                               at::ScalarType out_dtype) {
  // checks, frames and taps (frame_indices on the device are copied to the host: keep them on the CPU)
  const std::vector<PreparedClip> clips = {prepare_clip("clip_transform", video, layout,
                                                        frame_indices, size, crop, flip, scale,
                                                        mean, std, antialias, out_dtype)};
  FASTVID_CHECK_VALUE(video.is_cuda(), "clip_transform", "the CUDA kernel got a video on ",
                      video.device(), " (frame_indices on a CUDA device with a CPU video sends the "
                      "call here; keep frame_indices on the CPU)");
  // device guard
  const c10::cuda::CUDAGuard guard(video.device());
  // allocate; strides are read in place (no .contiguous() copy)
  const ClipTransformArgs& a = clips.front().args;
  at::Tensor out =
      at::empty({a.channels, a.out_t, a.crop_h, a.crop_w}, video.options().dtype(out_dtype));
  // empty outputs return early inside; dtype dispatch, launch on the current stream, launch check
  launch_clip_transform_cuda(clips, out);
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(fastvid, CUDA, m) {
  m.impl("clip_transform", &clip_transform_cuda);
}

}  // namespace fastvid
