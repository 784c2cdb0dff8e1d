// The host half of the CUDA clip_transform launch: the per-launch metadata block (clip descriptors,
// frame numbers, first taps and weights of every clip) and the decision between the unrolled 2 x 2
// kernel and the general one. Plain C++ (no CUDA headers): the .cu uses it with a pinned block that
// it copies to the device, the host emulation (csrc/testing) with an ordinary CPU block.
#pragma once

#include <c10/util/BFloat16.h>
#include <c10/util/Exception.h>
#include <c10/util/Half.h>

#include <cstdint>
#include <type_traits>
#include <vector>

#include "ops/clip_transform_batch.h"
#include "ops/cuda/clip_transform_device.h"

namespace fastvid {
namespace cuda {

// Byte layout of the metadata block: descriptors | frames (int64) | firsts (int32) | weights
// (float), each region 16-byte aligned.
struct KernelMeta {
  bool taps2 = false;  // every clip runs with exactly 2 x 2 taps (the unrolled kernel)
  int64_t batch = 0;
  int64_t n_frames = 0;
  int64_t n_firsts = 0;
  int64_t n_weights = 0;
  int64_t frames_at = 0;
  int64_t firsts_at = 0;
  int64_t weights_at = 0;
  int64_t total = 0;  // bytes
};

// Sizes the block for `clips` (checked and prepared, same channels / T' / crop) and picks the kernel.
KernelMeta plan_kernel_meta(const std::vector<PreparedClip>& clips);

// Writes the block at `base` (meta.total bytes, 16-byte aligned). Descriptors point at each clip's
// data (c.video.const_data_ptr()): the pointers the kernel will read through.
void fill_kernel_meta(const std::vector<PreparedClip>& clips, const KernelMeta& meta, uint8_t* base);

// The normalization of the batch (every clip shares it).
Affine kernel_affine(const ClipTransformArgs& args);

// The kernel's arguments for a block now at `base` (on the device, or on the host for emulation).
template <typename out_t>
KernelArgs<out_t> kernel_args(const KernelMeta& meta, const uint8_t* base,
                              const std::vector<PreparedClip>& clips, out_t* out) {
  const ClipTransformArgs& a0 = clips.front().args;
  KernelArgs<out_t> k;
  k.clips = reinterpret_cast<const CudaClipDesc*>(base);
  k.frames = reinterpret_cast<const int64_t*>(base + meta.frames_at);
  k.firsts = reinterpret_cast<const int32_t*>(base + meta.firsts_at);
  k.weights = reinterpret_cast<const float*>(base + meta.weights_at);
  k.out = out;
  k.num_bt = meta.batch * a0.out_t;
  k.out_t_len = a0.out_t;
  k.channels = static_cast<int>(a0.channels);
  k.out_h = a0.crop_h;
  k.out_w = a0.crop_w;
  k.aff = kernel_affine(a0);
  return k;
}

// Calls run.template operator()<in_t, out_t, kTaps>(args) with the kernel arguments for the batch's
// input and output types and kernel variant (kTaps 2: the unrolled 2 x 2 kernel, only ever chosen for
// uint8 clips; 0: the general one). The one place that maps a batch to a kernel instantiation, shared
// by the CUDA launcher and the host emulation (which so runs the same choice). `base` is where the
// metadata block is now (device or host).
template <typename in_t, typename out_t, typename Run>
void dispatch_taps(const KernelMeta& meta, const uint8_t* base,
                   const std::vector<PreparedClip>& clips, at::Tensor& out, Run& run) {
  const KernelArgs<out_t> k = kernel_args(meta, base, clips, out.data_ptr<out_t>());
  if constexpr (std::is_same_v<in_t, uint8_t>) {
    if (meta.taps2) {
      run.template operator()<in_t, out_t, 2>(k);
      return;
    }
  }
  TORCH_INTERNAL_ASSERT(!meta.taps2, "clip_transform: the 2 x 2 kernel is for uint8 clips only");
  run.template operator()<in_t, out_t, 0>(k);
}

template <typename in_t, typename Run>
void dispatch_out(const KernelMeta& meta, const uint8_t* base,
                  const std::vector<PreparedClip>& clips, at::Tensor& out, Run& run) {
  switch (out.scalar_type()) {
    case at::kFloat:
      dispatch_taps<in_t, float>(meta, base, clips, out, run);
      break;
    case at::kBFloat16:
      dispatch_taps<in_t, c10::BFloat16>(meta, base, clips, out, run);
      break;
    case at::kHalf:
      dispatch_taps<in_t, c10::Half>(meta, base, clips, out, run);
      break;
    case at::kByte:
      dispatch_taps<in_t, uint8_t>(meta, base, clips, out, run);
      break;
    default:
      TORCH_CHECK_TYPE(false, "clip_transform: unsupported out_dtype ", out.scalar_type());
  }
}

template <typename Run>
void dispatch_kernel(const KernelMeta& meta, const uint8_t* base,
                     const std::vector<PreparedClip>& clips, at::Tensor& out, Run& run) {
  if (clips.front().video.scalar_type() == at::kByte) {
    dispatch_out<uint8_t>(meta, base, clips, out, run);
  } else {
    dispatch_out<float>(meta, base, clips, out, run);
  }
}

}  // namespace cuda
}  // namespace fastvid
