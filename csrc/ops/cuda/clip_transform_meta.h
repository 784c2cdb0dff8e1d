// The host half of the CUDA clip_transform launch: the per-launch metadata block (clip descriptors,
// frame numbers, first taps and weights of every clip) and the decision between the unrolled 2 x 2
// kernel and the general one. Plain C++ (no CUDA headers): the .cu uses it with a pinned block that
// it copies to the device, the host emulation (csrc/testing) with an ordinary CPU block.
#pragma once

#include <cstdint>
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

}  // namespace cuda
}  // namespace fastvid
