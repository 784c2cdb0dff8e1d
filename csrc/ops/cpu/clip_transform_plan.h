// clip_transform on the CPU: the column plan that the vectorized horizontal pass reads, built once per
// call from the column taps. Plain numbers and pointers, shared by both ISA builds of the kernel.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

#include "ops/clip_transform.h"

namespace fastvid {

// Output columns are processed in groups of kCpuLanes (one AVX2 register of floats).
constexpr int64_t kCpuLanes = 8;

struct ClipTransformCpuPlan {
  // Floats between two channel planes of the per-row buffer: at least col_count + kCpuLanes, so that
  // an 8-wide load starting at any column the taps read stays inside the plane.
  int64_t tmp_pitch = 0;
  // Columns [0, vec_w) go through the 8-wide path (a multiple of 8), the rest through scalar code.
  int64_t vec_w = 0;
  // Column taps as int32 (relative to col_lo) and the weights tap-major: tap j of output x is
  // weight_soa[j * vec_w + x].
  const int32_t* first32 = nullptr;
  const float* weight_soa = nullptr;
  // When every group of 8 outputs reads source columns within an 8-wide window (upscaling, plain
  // crops, mild downscaling), tap j of group g is a permute of the 8 floats at group_base[g] + j by
  // the lane indices group_rel[8 g .. 8 g + 7]; otherwise the taps are gathered.
  bool permute = false;
  const int32_t* group_base = nullptr;
  const int32_t* group_rel = nullptr;
  // Otherwise, with at most 8 taps, each output is a dot product of the window of `window` (4 or 8)
  // floats starting at its first tap with window_weight (taps, then zeros): output x of group g uses
  // window_weight[g * 8 * window + ...] laid out as the kernel loads it (see clip_horizontal). 0: gather.
  int64_t window = 0;
  const float* window_weight = nullptr;
};

// Owns the arrays that a ClipTransformCpuPlan points to.
struct ClipTransformCpuPlanStorage {
  std::vector<int32_t> first32;
  std::vector<float> weight_soa;
  std::vector<int32_t> group_base;
  std::vector<int32_t> group_rel;
  std::vector<float> window_weight;
  ClipTransformCpuPlan plan;
};

// Builds the plan from the column taps of `p` (col_first relative to col_lo, col_weight, col_taps,
// out_w, col_count).
inline void build_cpu_plan(const ClipTransformParams& p, ClipTransformCpuPlanStorage& s) {
  const int64_t out_w = p.out_w;
  const int64_t taps = p.col_taps;
  ClipTransformCpuPlan& plan = s.plan;
  plan.tmp_pitch = (p.col_count + kCpuLanes - 1) / kCpuLanes * kCpuLanes + kCpuLanes;
  // int32 lane indices (gathers) need every column index to fit; a frame wider than 2^30 columns
  // simply takes the scalar path.
  const bool fits32 = p.col_count + kCpuLanes < (int64_t{1} << 30);
  plan.vec_w = fits32 ? out_w / kCpuLanes * kCpuLanes : 0;
  const int64_t n = plan.vec_w;
  s.first32.resize(n);
  s.weight_soa.resize(taps * n);
  for (int64_t x = 0; x < n; ++x) {
    s.first32[x] = static_cast<int32_t>(p.col_first[x]);
    for (int64_t j = 0; j < taps; ++j) {
      s.weight_soa[j * n + x] = p.col_weight[x * taps + j];
    }
  }
  const int64_t groups = n / kCpuLanes;
  s.group_base.resize(groups);
  s.group_rel.resize(n);
  bool permute = n > 0;
  for (int64_t g = 0; g < groups; ++g) {
    const int64_t* f = p.col_first + g * kCpuLanes;
    const int64_t lo = *std::min_element(f, f + kCpuLanes);
    const int64_t hi = *std::max_element(f, f + kCpuLanes);
    permute = permute && hi - lo < kCpuLanes;
    s.group_base[g] = static_cast<int32_t>(lo);
    for (int64_t k = 0; k < kCpuLanes; ++k) {
      s.group_rel[g * kCpuLanes + k] = static_cast<int32_t>(std::min<int64_t>(f[k] - lo, kCpuLanes - 1));
    }
  }
  // Window weights. window 4: for group g and k in 0..3, 8 floats = the 4 weights of output 8g + k,
  // then the 4 of output 8g + k + 4 (the two 128-bit halves of one register). window 8: the 8
  // weights of output x at x * 8.
  plan.window = permute || taps > kCpuLanes ? 0 : (taps <= 4 ? 4 : 8);
  s.window_weight.assign(plan.window * n, 0.0f);
  for (int64_t x = 0; x < n && plan.window > 0; ++x) {
    float* w;
    if (plan.window == 4) {
      const int64_t g = x / kCpuLanes, k = x % kCpuLanes;
      w = s.window_weight.data() + g * 32 + (k % 4) * 8 + (k / 4) * 4;
    } else {
      w = s.window_weight.data() + x * 8;
    }
    for (int64_t j = 0; j < taps; ++j) {
      w[j] = p.col_weight[x * taps + j];
    }
  }
  plan.window_weight = s.window_weight.data();
  plan.first32 = s.first32.data();
  plan.weight_soa = s.weight_soa.data();
  plan.permute = permute;
  plan.group_base = s.group_base.data();
  plan.group_rel = s.group_rel.data();
}

// The CPU kernel with the instruction set chosen at run time (cpu_kernel_isa()), for callers outside
// clip_transform_kernel.cpp (defined there for in_t uint8_t / float and out_t float, c10::BFloat16,
// c10::Half, uint8_t). Computes output rows [row_begin, row_end) of one clip (row r: frame
// r / out_h, crop row r % out_h) into dst, the clip's (C, T', out_h, out_w) output; `buffer` holds
// clip_transform_cpu_buffer_floats(p, plan) floats, zeroed once, reused across calls on one thread.
int64_t clip_transform_cpu_buffer_floats(const ClipTransformParams& p, const ClipTransformCpuPlan& plan);

template <typename in_t, typename out_t>
void clip_transform_cpu_rows(const ClipTransformParams& p, const ClipTransformCpuPlan& plan,
                             const in_t* src, out_t* dst, int64_t row_begin, int64_t row_end,
                             float* buffer);

}  // namespace fastvid
