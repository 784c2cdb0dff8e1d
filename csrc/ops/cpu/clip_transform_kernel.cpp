// CPU clip_transform: the portable and AVX2+FMA builds of the kernel, clip_transform_cpu_into (one
// prepared clip into its output, shared with the batched op) and the wrapper registered for the CPU
// key.
#include <ATen/Parallel.h>
#include <ATen/core/Tensor.h>
#include <ATen/ops/empty.h>
#include <c10/util/BFloat16.h>
#include <c10/util/Half.h>
#include <torch/library.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define FASTVID_HAVE_AVX2_BUILD 1
#endif

#include "common/cpu_features.h"
#include "ops/clip_transform.h"
#include "ops/clip_transform_args.h"
#include "ops/clip_transform_batch.h"
#include "ops/cpu/clip_transform_cpu.h"
#include "ops/cpu/clip_transform_plan.h"

namespace fastvid {
namespace cpu_baseline {
#define FASTVID_CPU_AVX2 0
#include "ops/cpu/clip_transform_impl.h"
#undef FASTVID_CPU_AVX2
}  // namespace cpu_baseline

#ifdef FASTVID_HAVE_AVX2_BUILD
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
namespace cpu_avx2 {
#define FASTVID_CPU_AVX2 1
#include "ops/cpu/clip_transform_impl.h"
#undef FASTVID_CPU_AVX2
}  // namespace cpu_avx2
#pragma GCC pop_options
#endif

int64_t clip_transform_cpu_buffer_floats(const ClipTransformParams& p, const ClipTransformCpuPlan& plan) {
  return cpu_baseline::clip_buffer_size(p, plan);
}

template <typename in_t, typename out_t>
void clip_transform_cpu_rows(const ClipTransformParams& p, const ClipTransformCpuPlan& plan,
                             const in_t* src, out_t* dst, int64_t row_begin, int64_t row_end,
                             float* buffer) {
#ifdef FASTVID_HAVE_AVX2_BUILD
  // Read on every call: FASTVID_CPU_ISA=baseline switches a running process to the portable build.
  if (std::strcmp(cpu_kernel_isa(), "avx2") == 0) {
    cpu_avx2::clip_transform_rows<in_t, out_t>(p, plan, src, dst, row_begin, row_end, buffer);
    return;
  }
#endif
  cpu_baseline::clip_transform_rows<in_t, out_t>(p, plan, src, dst, row_begin, row_end, buffer);
}

#define FASTVID_INSTANTIATE_CPU_ROWS(in_t, out_t)                                                 \
  template void clip_transform_cpu_rows<in_t, out_t>(const ClipTransformParams&,                \
                                                     const ClipTransformCpuPlan&, const in_t*,  \
                                                     out_t*, int64_t, int64_t, float*);
FASTVID_INSTANTIATE_CPU_ROWS(uint8_t, float)
FASTVID_INSTANTIATE_CPU_ROWS(uint8_t, c10::BFloat16)
FASTVID_INSTANTIATE_CPU_ROWS(uint8_t, c10::Half)
FASTVID_INSTANTIATE_CPU_ROWS(uint8_t, uint8_t)
FASTVID_INSTANTIATE_CPU_ROWS(float, float)
FASTVID_INSTANTIATE_CPU_ROWS(float, c10::BFloat16)
FASTVID_INSTANTIATE_CPU_ROWS(float, c10::Half)
FASTVID_INSTANTIATE_CPU_ROWS(float, uint8_t)
#undef FASTVID_INSTANTIATE_CPU_ROWS

namespace {

template <typename in_t, typename out_t>
void run_rows(const ClipTransformParams& p, const ClipTransformCpuPlan& plan, const in_t* src,
              out_t* dst) {
  const int64_t rows = p.out_t * p.out_h;
  const int64_t buffer_size = clip_transform_cpu_buffer_floats(p, plan);
  // Rows are handed out in chunks of about 64K output values (about 100 rows of a 224-wide RGB crop)
  // from a shared counter: on a quiet machine as fast as one block per thread, and a thread that
  // starts late or gets preempted does not hold the others up. Clips of fewer than two chunks stay on
  // the calling thread.
  const int64_t chunk = std::max<int64_t>(1, 65536 / std::max<int64_t>(1, p.out_w * p.channels));
  const int64_t threads = rows >= 2 * chunk ? std::min<int64_t>(at::get_num_threads(), (rows + chunk - 1) / chunk) : 1;
  std::atomic<int64_t> next{0};
  at::parallel_for(0, threads, 1, [&](int64_t, int64_t) {
    // Zeroed so that the lanes an 8-wide load reads past the last column are defined.
    std::vector<float> buffer(buffer_size, 0.0f);
    for (int64_t begin = next.fetch_add(chunk); begin < rows; begin = next.fetch_add(chunk)) {
      clip_transform_cpu_rows<in_t, out_t>(p, plan, src, dst, begin, std::min(rows, begin + chunk),
                                           buffer.data());
    }
  });
}

template <typename in_t>
void dispatch_out(const ClipTransformParams& p, const ClipTransformCpuPlan& plan, const in_t* src,
                  at::Tensor& out) {
  switch (out.scalar_type()) {
    case at::kFloat:
      run_rows(p, plan, src, out.data_ptr<float>());
      break;
    case at::kBFloat16:
      run_rows(p, plan, src, out.data_ptr<c10::BFloat16>());
      break;
    case at::kHalf:
      run_rows(p, plan, src, out.data_ptr<c10::Half>());
      break;
    case at::kByte:
      run_rows(p, plan, src, out.data_ptr<uint8_t>());
      break;
    default:
      TORCH_CHECK_TYPE(false, "clip_transform: unsupported out_dtype ", out.scalar_type());
  }
}

at::Tensor clip_transform_cpu(const at::Tensor& video, c10::string_view layout,
                              const std::optional<at::Tensor>& frame_indices,
                              at::OptionalIntArrayRef size, at::OptionalIntArrayRef crop, bool flip,
                              std::optional<double> scale,
                              std::optional<at::ArrayRef<double>> mean,
                              std::optional<at::ArrayRef<double>> std, bool antialias,
                              at::ScalarType out_dtype) {
  // checks, frames and taps (the batched ops prepare each clip the same way)
  const PreparedClip clip = prepare_clip("clip_transform", video, layout, frame_indices, size, crop,
                                         flip, scale, mean, std, antialias, out_dtype);
  // (CPU: no device guard) allocate the output; strides are read in place (no .contiguous() copy)
  const ClipTransformArgs& a = clip.args;
  at::Tensor out =
      at::empty({a.channels, a.out_t, a.crop_h, a.crop_w}, video.options().dtype(out_dtype));
  clip_transform_cpu_into(clip, out);
  return out;
}

}  // namespace

void clip_transform_cpu_into(const PreparedClip& clip, at::Tensor out) {
  TORCH_INTERNAL_ASSERT(out.is_cpu() && out.is_contiguous() && out.dim() == 4 &&
                        out.size(0) == clip.args.channels && out.size(1) == clip.args.out_t &&
                        out.size(2) == clip.args.crop_h && out.size(3) == clip.args.crop_w);
  if (out.numel() == 0) {
    return;
  }
  const ClipTransformParams p = clip.params();
  ClipTransformCpuPlanStorage plan;
  build_cpu_plan(p, plan);
  // dtype dispatch and run
  if (clip.video.scalar_type() == at::kByte) {
    dispatch_out(p, plan.plan, clip.video.const_data_ptr<uint8_t>(), out);
  } else {
    dispatch_out(p, plan.plan, clip.video.const_data_ptr<float>(), out);
  }
}

TORCH_LIBRARY_IMPL(fastvid, CPU, m) {
  m.impl("clip_transform", &clip_transform_cpu);
}

}  // namespace fastvid
