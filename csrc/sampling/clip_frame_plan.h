// Frame-index planning for clips: which decoded frames a clip keeps and where decoding must start.
// Plain C++ on raw pointers (no torch here), so the inner loops are testable and portable.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace fastvid {
namespace sampling {

// The value torch.linspace(0, num_frames - 1, num_samples) holds at position i, as torch's CPU kernel
// computes it in float32: step = (end - start) / (steps - 1); the first half counts up from start,
// the second half counts down from end. With `fma` the multiply-add is fused (torch's AVX2/AVX512
// kernels), without it it is rounded twice (torch's portable kernel).
inline float torch_linspace_value(int64_t num_frames, int64_t num_samples, int64_t i, bool fma) {
  if (num_samples == 1) return 0.0f;
  const float start = 0.0f;
  const float end = static_cast<float>(num_frames - 1);
  const float step = (end - start) / static_cast<float>(num_samples - 1);
  const int64_t halfway = num_samples / 2;
  if (i < halfway) {
    const float k = static_cast<float>(i);
    return fma ? std::fmaf(step, k, start) : start + step * k;
  }
  const float k = static_cast<float>(num_samples - i - 1);
  return fma ? std::fmaf(-step, k, end) : end - step * k;
}

// UniformTemporalSubsample's kept index: clamp(linspace(...), 0, T - 1).long() (truncation).
inline int64_t uniform_subsample_index(int64_t num_frames, int64_t num_samples, int64_t i, bool fma) {
  float v = torch_linspace_value(num_frames, num_samples, i, fma);
  const float hi = static_cast<float>(num_frames - 1);
  v = std::min(std::max(v, 0.0f), hi);
  return static_cast<int64_t>(v);
}

// Plans clips [begin, end) of a batch over one video.
//   pts[num_frames]        presentation times of the video's frames, ascending (ties allowed).
//   keyframes[num_keys]    ascending indices into pts of the frames decoding can start from.
//   windows[2 * clip]      [start, end) of each clip in the units of pts; end exclusive.
// Per clip it writes:
//   first[clip], count[clip]  the window's frames are pts indices [first, first + count).
//   indices[clip * num_samples + j]  the j-th kept frame (UniformTemporalSubsample over the window's
//                              frames), as an index into pts; -1 when the window holds no frame.
//   seek[clip]                the last keyframe at or before the first kept frame (-1: none, decode from
//                              the start of the stream; also -1 for an empty window).
// num_samples <= 0 keeps every frame of the window (indices is then not written).
template <typename pts_t>
void plan_clip_frames_impl(const pts_t* pts, int64_t num_frames, const int64_t* keyframes, int64_t num_keys,
                           const pts_t* windows, int64_t num_samples, bool fma, int64_t begin, int64_t end,
                           int64_t* first, int64_t* count, int64_t* indices, int64_t* seek) {
  const pts_t* pts_end = pts + num_frames;
  for (int64_t c = begin; c < end; ++c) {
    const pts_t lo = windows[2 * c];
    const pts_t hi = windows[2 * c + 1];
    const int64_t f = std::lower_bound(pts, pts_end, lo) - pts;
    const int64_t l = hi > lo ? std::lower_bound(pts + f, pts_end, hi) - pts : f;
    const int64_t t = l - f;
    first[c] = f;
    count[c] = t;
    int64_t first_needed = f;
    if (num_samples > 0) {
      int64_t* row = indices + c * num_samples;
      for (int64_t j = 0; j < num_samples; ++j) {
        row[j] = t > 0 ? f + uniform_subsample_index(t, num_samples, j, fma) : -1;
      }
      if (t > 0) first_needed = row[0];
    }
    if (t <= 0) {
      seek[c] = -1;
      continue;
    }
    // Last keyframe whose index is <= first_needed.
    const int64_t* k = std::upper_bound(keyframes, keyframes + num_keys, first_needed);
    seek[c] = k == keyframes ? -1 : *(k - 1);
  }
}

}  // namespace sampling
}  // namespace fastvid
