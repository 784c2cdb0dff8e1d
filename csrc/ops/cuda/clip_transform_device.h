// The CUDA clip_transform kernel's per-thread body, written once for two compilers:
//   nvcc (clip_transform_kernel.cu): the __global__ kernel calls it with the real block and thread
//     indices and DeviceAccess (loads through the read-only cache);
//   the host compiler (csrc/testing/cuda_kernel_on_host.cpp): a test-only CPU op runs the same body
//     for every block and thread of the same grid, with an access object that checks every load and
//     store (the machine without a GPU still runs the GPU kernel's indexing in CI).
//
// One thread per output pixel (clip b, frame t, row y, column x), computing all C channels. A block is
// 32 x 8 threads over (x, y) of one (b, t), so a warp writes 32 consecutive values of a (C, T', h, w)
// plane per channel: coalesced 128-byte stores for float32. The thread reads its row_taps x col_taps
// source pixels (2 x 2 for bilinear), in the same order as the CPU kernel (vertical taps first, then
// horizontal), then normalizes once: out = v * alpha_c + beta_c. The source is read in place with its
// own strides (THWC, CTHW, any view); the taps guarantee every read lies inside the clip. Offsets are
// 64-bit. Grid y and z are capped (65535 on a GPU); rows and (b, t) pairs past the grid are reached
// by grid-stride loops.
#pragma once

#include <c10/util/BFloat16.h>
#include <c10/util/Half.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "ops/clip_transform.h"

#ifdef __CUDACC__
#define FASTVID_KERNEL_FN __device__ __forceinline__
#define FASTVID_PRAGMA(x) _Pragma(#x)
#define FASTVID_UNROLL FASTVID_PRAGMA(unroll)
#define FASTVID_UNROLL_TAPS FASTVID_PRAGMA(unroll(kTaps > 0 ? kTaps : 1))
#else
#define FASTVID_KERNEL_FN inline
#define FASTVID_UNROLL
#define FASTVID_UNROLL_TAPS
#endif

namespace fastvid {
namespace cuda {

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

// Everything one launch needs (passed by value as the kernel's parameter).
template <typename out_t>
struct KernelArgs {
  const CudaClipDesc* clips;
  const int64_t* frames;
  const int32_t* firsts;
  const float* weights;
  out_t* out;  // (B, C, T', h, w), contiguous
  int64_t num_bt;
  int64_t out_t_len;
  int channels;
  int64_t out_h;
  int64_t out_w;
  Affine aff;
};

// A block or thread index, or a grid or block size (the host's stand-in for uint3 / dim3).
struct Index3 {
  int64_t x;
  int64_t y;
  int64_t z;
};

// The launch grid for out_w x out_h pixels of num_bt (clip, frame) pairs; y and z capped at max_yz.
inline Index3 launch_grid(int64_t out_w, int64_t out_h, int64_t num_bt, int64_t max_yz) {
  return {(out_w + kBlockX - 1) / kBlockX, std::min((out_h + kBlockY - 1) / kBlockY, max_yz),
          std::min(num_bt, max_yz)};
}

// Converts a finished value to the output type, as the CPU kernel's clip_store does (uint8: round
// half to even, clamp to 0..255, NaN gives 0).
template <typename out_t>
FASTVID_KERNEL_FN out_t store_as(float v) {
  if constexpr (std::is_same_v<out_t, uint8_t>) {
    v = rintf(v);
    if (!(v > 0.0f)) {
      return 0;
    }
    return v >= 255.0f ? uint8_t{255} : static_cast<uint8_t>(v);
  } else {
    return out_t(v);
  }
}

// The work of thread `thread` of block `block` in a grid of `grid` blocks of (kBlockX, kBlockY)
// threads. Access provides load(p) (a read-only load), load_ptr(p) (a pointer field) and
// store(p, v). kTaps 2: every clip has exactly 2 x 2 taps (bilinear; the host pads 1-tap axes with a
// zero-weight neighbour), so the tap loops unroll completely. kTaps 0: any number of taps per clip.
template <typename in_t, typename out_t, int kTaps, typename Access>
FASTVID_KERNEL_FN void clip_transform_thread(const KernelArgs<out_t>& k, Index3 block,
                                             Index3 thread, Index3 grid, Access& acc) {
  const int64_t x = block.x * kBlockX + thread.x;
  if (x >= k.out_w) {
    return;
  }
  const int64_t plane = k.out_t_len * k.out_h * k.out_w;  // elements between two output channels
  for (int64_t bt = block.z; bt < k.num_bt; bt += grid.z) {
    const int64_t b = bt / k.out_t_len;
    const int64_t t = bt - b * k.out_t_len;
    const CudaClipDesc* d = k.clips + b;
    const int64_t sc = acc.load(&d->stride_c);
    const int64_t sh = acc.load(&d->stride_h);
    const int64_t sw = acc.load(&d->stride_w);
    const int row_taps = kTaps > 0 ? kTaps : acc.load(&d->row_taps);
    const int col_taps = kTaps > 0 ? kTaps : acc.load(&d->col_taps);
    const int64_t frame = acc.load(k.frames + acc.load(&d->frame_off) + t);
    const in_t* src = static_cast<const in_t*>(acc.load_ptr(&d->src)) + frame * acc.load(&d->stride_t);
    const int64_t cx = acc.load(k.firsts + acc.load(&d->col_first_off) + x);
    const float* wx = k.weights + acc.load(&d->col_weight_off) + x * col_taps;
    const int32_t* row_first = k.firsts + acc.load(&d->row_first_off);
    const float* row_weight = k.weights + acc.load(&d->row_weight_off);
    out_t* out_bt = k.out + (b * k.channels * k.out_t_len + t) * k.out_h * k.out_w + x;
    for (int64_t y = block.y * kBlockY + thread.y; y < k.out_h; y += grid.y * kBlockY) {
      const int64_t ry = acc.load(row_first + y);
      const float* wy = row_weight + y * row_taps;
      const in_t* s0 = src + ry * sh + cx * sw;
      float acc_c[kMaxChannels] = {0.0f, 0.0f, 0.0f, 0.0f};
      FASTVID_UNROLL_TAPS
      for (int j = 0; j < col_taps; ++j) {
        // Vertical pass over source column cx + j, then its horizontal weight (the CPU's order).
        const in_t* s = s0 + j * sw;
        float v[kMaxChannels] = {0.0f, 0.0f, 0.0f, 0.0f};
        FASTVID_UNROLL_TAPS
        for (int i = 0; i < row_taps; ++i) {
          const float w = acc.load(wy + i);
          const in_t* p = s + i * sh;
          FASTVID_UNROLL
          for (int c = 0; c < kMaxChannels; ++c) {
            if (c < k.channels) {
              v[c] += w * static_cast<float>(acc.load(p + c * sc));
            }
          }
        }
        const float w = acc.load(wx + j);
        FASTVID_UNROLL
        for (int c = 0; c < kMaxChannels; ++c) {
          if (c < k.channels) {
            acc_c[c] += w * v[c];
          }
        }
      }
      out_t* o = out_bt + y * k.out_w;
      FASTVID_UNROLL
      for (int c = 0; c < kMaxChannels; ++c) {
        if (c < k.channels) {
          acc.store(o + c * plane, store_as<out_t>(fmaf(acc_c[c], k.aff.alpha[c], k.aff.beta[c])));
        }
      }
    }
  }
}

}  // namespace cuda
}  // namespace fastvid
