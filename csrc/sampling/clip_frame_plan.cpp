// plan_clip_frames on CPU: checks, then plan_clip_frames_impl over the clips with at::parallel_for.
#include <ATen/Parallel.h>
#include <ATen/core/Tensor.h>
#include <ATen/ops/empty.h>
#include <torch/library.h>

#include <cstdint>
#include <cmath>
#include <tuple>
#include <type_traits>

#include "common/checks.h"
#include "sampling/clip_frame_plan.h"

namespace fastvid {
namespace {

constexpr const char* kOp = "plan_clip_frames";

template <typename pts_t>
bool is_sorted_ptr(const pts_t* v, int64_t n) {
  for (int64_t i = 1; i < n; ++i) {
    if (v[i] < v[i - 1]) return false;
  }
  return true;
}

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> plan_clip_frames_cpu(
    const at::Tensor& frame_pts, const at::Tensor& keyframes, const at::Tensor& windows, int64_t num_samples,
    bool linspace_fma) {
  FASTVID_CHECK_VALUE(frame_pts.dim() == 1, kOp, "frame_pts must be 1-D, got shape ", frame_pts.sizes());
  FASTVID_CHECK_TYPE(frame_pts.scalar_type() == at::kLong || frame_pts.scalar_type() == at::kDouble, kOp,
                     "frame_pts must be int64 (pts) or float64 (seconds), got ", frame_pts.scalar_type());
  FASTVID_CHECK_VALUE(keyframes.dim() == 1, kOp, "keyframes must be 1-D, got shape ", keyframes.sizes());
  FASTVID_CHECK_TYPE(keyframes.scalar_type() == at::kLong, kOp, "keyframes must be int64, got ",
                     keyframes.scalar_type());
  FASTVID_CHECK_VALUE(windows.dim() == 2 && windows.size(1) == 2, kOp,
                      "windows must have shape (num_clips, 2), got ", windows.sizes());
  FASTVID_CHECK_TYPE(windows.scalar_type() == frame_pts.scalar_type(), kOp,
                     "windows must have the dtype of frame_pts (", frame_pts.scalar_type(), "), got ",
                     windows.scalar_type());
  FASTVID_CHECK_VALUE(frame_pts.device().is_cpu() && keyframes.device().is_cpu() && windows.device().is_cpu(),
                      kOp, "all inputs must be on the CPU");

  const at::Tensor pts = frame_pts.contiguous();
  const at::Tensor keys = keyframes.contiguous();
  const at::Tensor wins = windows.contiguous();
  const int64_t num_frames = pts.size(0);
  const int64_t num_keys = keys.size(0);
  const int64_t num_clips = wins.size(0);

  const int64_t* key_ptr = keys.data_ptr<int64_t>();
  FASTVID_CHECK_VALUE(is_sorted_ptr(key_ptr, num_keys), kOp, "keyframes must be in ascending order");
  for (int64_t i = 0; i < num_keys; ++i) {
    FASTVID_CHECK_VALUE(key_ptr[i] >= 0 && key_ptr[i] < num_frames, kOp, "keyframes[", i, "] = ", key_ptr[i],
                        " is not a frame index in [0, ", num_frames, ")");
  }

  const auto long_opts = pts.options().dtype(at::kLong);
  at::Tensor first = at::empty({num_clips}, long_opts);
  at::Tensor count = at::empty({num_clips}, long_opts);
  at::Tensor indices = at::empty({num_clips, num_samples > 0 ? num_samples : 0}, long_opts);
  at::Tensor seek = at::empty({num_clips}, long_opts);
  if (num_clips == 0) return {first, count, indices, seek};

  const int64_t samples = num_samples > 0 ? num_samples : 0;
  // Each clip is two binary searches and `samples` index computations: batch a few hundred per task.
  const int64_t grain = 256;
  auto run = [&](auto* pts_ptr, auto* win_ptr) {
    using pts_t = std::remove_const_t<std::remove_pointer_t<decltype(pts_ptr)>>;
    FASTVID_CHECK_VALUE(is_sorted_ptr<pts_t>(pts_ptr, num_frames), kOp,
                        "frame_pts must be in ascending (presentation) order");
    at::parallel_for(0, num_clips, grain, [&](int64_t begin, int64_t end) {
      sampling::plan_clip_frames_impl<pts_t>(pts_ptr, num_frames, key_ptr, num_keys, win_ptr, samples,
                                             linspace_fma, begin, end, first.data_ptr<int64_t>(),
                                             count.data_ptr<int64_t>(), indices.data_ptr<int64_t>(),
                                             seek.data_ptr<int64_t>());
    });
  };
  if (pts.scalar_type() == at::kLong) {
    run(pts.data_ptr<int64_t>(), wins.data_ptr<int64_t>());
  } else {
    const double* p = pts.data_ptr<double>();
    for (int64_t i = 0; i < num_frames; ++i) {
      FASTVID_CHECK_VALUE(!std::isnan(p[i]), kOp, "frame_pts[", i, "] is NaN");
    }
    run(p, wins.data_ptr<double>());
  }
  return {first, count, indices, seek};
}

}  // namespace

TORCH_LIBRARY_IMPL(fastvid, CPU, m) {
  m.impl("plan_clip_frames", &plan_clip_frames_cpu);
}

}  // namespace fastvid
