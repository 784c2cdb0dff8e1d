// CPU clip_transform: argument checks, the portable and AVX2+FMA builds of the kernel, and the
// wrapper registered for the CPU key.
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
  // checks
  ClipTransformArgs args = check_clip_transform_args("clip_transform", video, layout, frame_indices,
                                                     size, crop, flip, scale, mean, std, out_dtype);
  // (CPU: no device guard) allocate the output; empty outputs return early
  at::Tensor out = at::empty({args.channels, args.out_t, args.crop_h, args.crop_w},
                             video.options().dtype(out_dtype));
  if (out.numel() == 0) {
    return out;
  }
  // strides are read in place: no .contiguous() copy of the clip
  const std::vector<int64_t> frames = frame_index_vector("clip_transform", args, frame_indices);
  const AxisTaps rows = compute_axis_taps(args.in_h, args.size_h, args.crop_top, args.crop_h,
                                          antialias, /*flip=*/false);
  const AxisTaps cols = compute_axis_taps(args.in_w, args.size_w, args.crop_left, args.crop_w,
                                          antialias, flip);
  // Source columns actually read; column taps become relative to the first of them.
  int64_t col_lo = args.in_w;
  int64_t col_hi = 0;
  for (int64_t x = 0; x < args.crop_w; ++x) {
    col_lo = std::min(col_lo, cols.first[x]);
    col_hi = std::max(col_hi, cols.first[x] + cols.taps);
  }
  std::vector<int64_t> col_first(cols.first);
  for (auto& f : col_first) {
    f -= col_lo;
  }
  ClipTransformParams p = make_params(args);
  p.frame_index = frames.data();
  p.row_taps = rows.taps;
  p.row_first = rows.first.data();
  p.row_weight = rows.weight.data();
  p.col_taps = cols.taps;
  p.col_first = col_first.data();
  p.col_weight = cols.weight.data();
  p.col_lo = col_lo;
  p.col_count = col_hi - col_lo;
  ClipTransformCpuPlanStorage plan;
  build_cpu_plan(p, plan);

  // dtype dispatch and launch
  if (video.scalar_type() == at::kByte) {
    dispatch_out(p, plan.plan, video.const_data_ptr<uint8_t>(), out);
  } else {
    dispatch_out(p, plan.plan, video.const_data_ptr<float>(), out);
  }
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(fastvid, CPU, m) {
  m.impl("clip_transform", &clip_transform_cpu);
}

}  // namespace fastvid
