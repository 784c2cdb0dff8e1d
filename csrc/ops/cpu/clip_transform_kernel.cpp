// CPU clip_transform: argument checks, the portable and AVX2+FMA builds of the kernel, and the
// wrapper registered for the CPU key.
#include <ATen/Parallel.h>
#include <ATen/core/Tensor.h>
#include <ATen/ops/empty.h>
#include <c10/util/BFloat16.h>
#include <c10/util/Half.h>
#include <torch/library.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "common/cpu_features.h"
#include "ops/clip_transform.h"
#include "ops/clip_transform_args.h"

namespace fastvid {
namespace cpu_baseline {
#include "ops/cpu/clip_transform_impl.h"
}  // namespace cpu_baseline

#if defined(__x86_64__) && defined(__GNUC__)
#define FASTVID_HAVE_AVX2_BUILD 1
#pragma GCC push_options
#pragma GCC target("avx2,fma")
namespace cpu_avx2 {
#include "ops/cpu/clip_transform_impl.h"
}  // namespace cpu_avx2
#pragma GCC pop_options
#endif

namespace {

template <typename in_t, typename out_t>
void run_rows(const ClipTransformParams& p, const in_t* src, out_t* dst, bool affine, bool avx2) {
  const int64_t rows = p.out_t * p.out_h;
  const int64_t tmp_size = p.channels * p.col_count;
  // A few rows per task keeps the per-task overhead small next to the row's work.
  const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(1, p.out_w * p.channels));
  at::parallel_for(0, rows, grain, [&](int64_t begin, int64_t end) {
    std::vector<float> tmp(tmp_size);
#ifdef FASTVID_HAVE_AVX2_BUILD
    if (avx2) {
      cpu_avx2::clip_transform_rows<in_t, out_t>(p, src, dst, affine, begin, end, tmp.data());
      return;
    }
#endif
    cpu_baseline::clip_transform_rows<in_t, out_t>(p, src, dst, affine, begin, end, tmp.data());
  });
}

template <typename in_t>
void dispatch_out(const ClipTransformParams& p, const in_t* src, at::Tensor& out, bool affine,
                  bool avx2) {
  switch (out.scalar_type()) {
    case at::kFloat:
      run_rows(p, src, out.data_ptr<float>(), affine, avx2);
      break;
    case at::kBFloat16:
      run_rows(p, src, out.data_ptr<c10::BFloat16>(), affine, avx2);
      break;
    case at::kHalf:
      run_rows(p, src, out.data_ptr<c10::Half>(), affine, avx2);
      break;
    case at::kByte:
      run_rows(p, src, out.data_ptr<uint8_t>(), affine, avx2);
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
  const std::vector<int64_t> frames = frame_index_vector(args, frame_indices);
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

  const bool avx2 = std::string(cpu_kernel_isa()) == "avx2";
  // dtype dispatch and launch
  if (video.scalar_type() == at::kByte) {
    dispatch_out(p, video.const_data_ptr<uint8_t>(), out, args.affine, avx2);
  } else {
    dispatch_out(p, video.const_data_ptr<float>(), out, args.affine, avx2);
  }
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(fastvid, CPU, m) {
  m.impl("clip_transform", &clip_transform_cpu);
}

}  // namespace fastvid
