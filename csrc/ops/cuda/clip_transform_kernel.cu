// CUDA clip_transform: the kernel, its launcher (shared with the batched ops, which are the same
// kernel over B clips) and the single-clip wrapper registered for the CUDA key.
//
// Host: every clip is checked with clip_transform's own checks and gets its frame numbers and
// interpolation taps from compute_axis_taps (ops/clip_transform_batch.h), exactly as on the CPU, so
// both devices use bit-identical weights. Descriptors, frames and taps of the whole batch go into
// one pinned host block (ops/cuda/clip_transform_meta.h) and reach the device in one asynchronous
// copy on the current stream.
//
// Device: the per-thread body is ops/cuda/clip_transform_device.h, shared with a host emulation
// that runs it (with every load and store checked) in the CPU-only test suite.
#include <ATen/core/Tensor.h>
#include <c10/cuda/CUDAStream.h>
#include <ATen/ops/empty.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAException.h>
#include <torch/library.h>

#include <cstdint>
#include <limits>
#include <vector>

#include "common/checks.h"
#include "ops/clip_transform.h"
#include "ops/clip_transform_args.h"
#include "ops/clip_transform_batch.h"
#include "ops/cuda/clip_transform_cuda.h"
#include "ops/cuda/clip_transform_device.h"
#include "ops/cuda/clip_transform_meta.h"

namespace fastvid {

namespace {

using cuda::Index3;
using cuda::KernelArgs;
using cuda::kBlockX;
using cuda::kBlockY;

// Loads through the read-only (non-coherent) cache; plain stores.
struct DeviceAccess {
  template <typename T>
  __device__ __forceinline__ T load(const T* p) const {
    return __ldg(p);
  }
  template <typename T>
  __device__ __forceinline__ T load_ptr(const T* p) const {
    return *p;
  }
  template <typename T>
  __device__ __forceinline__ void store(T* p, T v) const {
    *p = v;
  }
};

// The arrays arrive as __restrict__ parameters (the compiler then knows the output aliases no input;
// a pointer inside a struct parameter does not say so) and are put back into the arguments.
template <typename in_t, typename out_t, int kTaps>
__global__ void __launch_bounds__(kBlockX* kBlockY)
    clip_transform_kernel(const cuda::CudaClipDesc* __restrict__ clips,
                          const int64_t* __restrict__ frames, const int32_t* __restrict__ firsts,
                          const float* __restrict__ weights, out_t* __restrict__ out,
                          KernelArgs<out_t> k) {
  k.clips = clips;
  k.frames = frames;
  k.firsts = firsts;
  k.weights = weights;
  k.out = out;
  DeviceAccess acc;
  cuda::clip_transform_thread<in_t, out_t, kTaps>(
      k, Index3{blockIdx.x, blockIdx.y, blockIdx.z}, Index3{threadIdx.x, threadIdx.y, threadIdx.z},
      Index3{gridDim.x, gridDim.y, gridDim.z}, acc);
}

// Launches the kernel instantiation dispatch_kernel picks (ops/cuda/clip_transform_meta.h).
struct Launch {
  cudaStream_t stream;

  template <typename in_t, typename out_t, int kTaps>
  void operator()(const KernelArgs<out_t>& k) const {
    const Index3 g = cuda::launch_grid(k.out_w, k.out_h, k.num_bt, cuda::kMaxGridYZ);
    FASTVID_CHECK_VALUE(g.x <= std::numeric_limits<int32_t>::max(), "clip_transform", "crop width ",
                        k.out_w, " is too large for one launch");
    const dim3 grid(static_cast<unsigned>(g.x), static_cast<unsigned>(g.y),
                    static_cast<unsigned>(g.z));
    const dim3 block(kBlockX, kBlockY);
    clip_transform_kernel<in_t, out_t, kTaps>
        <<<grid, block, 0, stream>>>(k.clips, k.frames, k.firsts, k.weights, k.out, k);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  }
};

}  // namespace

void launch_clip_transform_cuda(const std::vector<PreparedClip>& clips, at::Tensor& out) {
  if (clips.empty() || out.numel() == 0) {
    return;
  }
  const cuda::KernelMeta meta = cuda::plan_kernel_meta(clips);
  at::Tensor host =
      at::empty({meta.total}, at::TensorOptions().dtype(at::kByte).pinned_memory(true));
  cuda::fill_kernel_meta(clips, meta, host.data_ptr<uint8_t>());

  // One asynchronous copy on the current stream; the pinned block stays reserved until it is done.
  const at::Tensor dev = host.to(out.device(), /*non_blocking=*/true);
  const uint8_t* dbase = dev.const_data_ptr<uint8_t>();
  Launch launch{c10::cuda::getCurrentCUDAStream(out.device().index()).stream()};
  cuda::dispatch_kernel(meta, dbase, clips, out, launch);
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
