// Small device helpers shared by fastvid's CUDA kernels.
#pragma once

#include <c10/util/BFloat16.h>
#include <c10/util/Half.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace fastvid {
namespace cuda {

inline int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}

// Read-only loads through the non-coherent (texture) cache, converted to float.
__device__ __forceinline__ float load_float(const uint8_t* p) {
  return static_cast<float>(__ldg(p));
}

__device__ __forceinline__ float load_float(const float* p) {
  return __ldg(p);
}

// Converts a finished value to the output type, as the CPU kernel's clip_store does (uint8: round
// half to even, clamp to 0..255, NaN gives 0).
template <typename out_t>
__device__ __forceinline__ out_t store_as(float v);

template <>
__device__ __forceinline__ float store_as<float>(float v) {
  return v;
}

template <>
__device__ __forceinline__ c10::BFloat16 store_as<c10::BFloat16>(float v) {
  return c10::BFloat16(v);
}

template <>
__device__ __forceinline__ c10::Half store_as<c10::Half>(float v) {
  return c10::Half(v);
}

template <>
__device__ __forceinline__ uint8_t store_as<uint8_t>(float v) {
  v = rintf(v);
  if (!(v > 0.0f)) {
    return 0;
  }
  return v >= 255.0f ? uint8_t{255} : static_cast<uint8_t>(v);
}

}  // namespace cuda
}  // namespace fastvid
