// The CPU clip_transform kernel on raw pointers. No torch types here: clip_transform_kernel.cpp
// includes this file twice, once for the portable build and once under an AVX2+FMA target, each in a
// namespace of its own, and dispatches between them at run time.
//
// Work unit: one output row (frame t, crop row y). For each row:
//   1. vertical pass: tmp[c][x] = sum_i wy[i] * src[frame(t), row_first[y] + i, col_lo + x, c] over
//      the source columns the crop needs (col_count of them), as float;
//   2. horizontal pass: out[c][t][y][x] = (sum_j wx[j] * tmp[c][col_first[x] + j]) * alpha_c + beta_c.
// tmp is one row of source width: the only intermediate, per thread, never a frame or a clip.
//
// Expected from the includer: <cstdint>, <algorithm>, <cmath>, c10 BFloat16/Half, clip_transform.h.

// Converts the finished value to the output type.
template <typename out_t>
inline out_t clip_store(float v);

template <>
inline float clip_store<float>(float v) {
  return v;
}

template <>
inline uint8_t clip_store<uint8_t>(float v) {
  v = std::nearbyint(v);
  v = v < 0.0f ? 0.0f : (v > 255.0f ? 255.0f : v);
  return static_cast<uint8_t>(v);
}

template <>
inline c10::BFloat16 clip_store<c10::BFloat16>(float v) {
  return c10::BFloat16(v);
}

template <>
inline c10::Half clip_store<c10::Half>(float v) {
  return c10::Half(v);
}

// tmp[c * tmp_pitch + x] for x in [0, n): vertical taps over `taps` rows starting at `row0` (a pointer
// to the source pixel (c=0, row_first, col_lo) of the frame), rows `sh` apart, columns `sw` apart,
// channels `sc` apart.
template <typename in_t>
inline void clip_vertical_generic(const in_t* row0, int64_t taps, const float* w, int64_t channels,
                                  int64_t n, int64_t sc, int64_t sh, int64_t sw, float* tmp,
                                  int64_t tmp_pitch) {
  for (int64_t c = 0; c < channels; ++c) {
    float* t = tmp + c * tmp_pitch;
    const in_t* s = row0 + c * sc;
    for (int64_t x = 0; x < n; ++x) {
      float acc = 0.0f;
      for (int64_t i = 0; i < taps; ++i) {
        acc += w[i] * static_cast<float>(s[i * sh + x * sw]);
      }
      t[x] = acc;
    }
  }
}

// Contiguous source rows (planar CTHW rows, or THWC rows read as one interleaved run of n*C values):
// dst[x] = sum_i w[i] * src_i[x], vectorizable.
template <typename in_t>
inline void clip_vertical_contig(const in_t* row0, int64_t taps, const float* w, int64_t n,
                                 int64_t sh, float* dst) {
  if (taps == 1) {
    const float w0 = w[0];
    for (int64_t x = 0; x < n; ++x) {
      dst[x] = w0 * static_cast<float>(row0[x]);
    }
    return;
  }
  if (taps == 2) {
    const in_t* r1 = row0 + sh;
    const float w0 = w[0];
    const float w1 = w[1];
    for (int64_t x = 0; x < n; ++x) {
      dst[x] = w0 * static_cast<float>(row0[x]) + w1 * static_cast<float>(r1[x]);
    }
    return;
  }
  const float w0 = w[0];
  for (int64_t x = 0; x < n; ++x) {
    dst[x] = w0 * static_cast<float>(row0[x]);
  }
  for (int64_t i = 1; i < taps; ++i) {
    const in_t* r = row0 + i * sh;
    const float wi = w[i];
    for (int64_t x = 0; x < n; ++x) {
      dst[x] += wi * static_cast<float>(r[x]);
    }
  }
}

// out[x] = (sum_j wx[x][j] * src[(first[x] + j) * step]) * alpha + beta for x in [0, n).
template <typename out_t>
inline void clip_horizontal(const float* src, int64_t step, int64_t taps, const int64_t* first,
                            const float* wx, int64_t n, float alpha, float beta, bool affine,
                            out_t* out) {
  if (taps == 2) {
    for (int64_t x = 0; x < n; ++x) {
      const float* s = src + first[x] * step;
      float v = wx[2 * x] * s[0] + wx[2 * x + 1] * s[step];
      out[x] = clip_store<out_t>(affine ? v * alpha + beta : v);
    }
    return;
  }
  if (taps == 1) {
    for (int64_t x = 0; x < n; ++x) {
      float v = wx[x] * src[first[x] * step];
      out[x] = clip_store<out_t>(affine ? v * alpha + beta : v);
    }
    return;
  }
  for (int64_t x = 0; x < n; ++x) {
    const float* s = src + first[x] * step;
    const float* w = wx + x * taps;
    float v = 0.0f;
    for (int64_t j = 0; j < taps; ++j) {
      v += w[j] * s[j * step];
    }
    out[x] = clip_store<out_t>(affine ? v * alpha + beta : v);
  }
}

// Computes output rows [row_begin, row_end) of the clip, row r being frame r / out_h, crop row
// r % out_h. `tmp` holds channels * col_count floats.
template <typename in_t, typename out_t>
void clip_transform_rows(const fastvid::ClipTransformParams& p, const in_t* src, out_t* dst,
                         bool affine, int64_t row_begin, int64_t row_end, float* tmp) {
  const int64_t C = p.channels;
  const int64_t n = p.col_count;
  const int64_t plane = p.out_t * p.out_h * p.out_w;  // elements per output channel
  // Source row layouts that the vertical pass reads as one contiguous run.
  const bool interleaved = p.stride_c == 1 && p.stride_w == C;  // THWC rows: tmp[x * C + c]
  const bool planar = p.stride_w == 1;                         // CTHW rows: tmp[c * n + x]
  for (int64_t r = row_begin; r < row_end; ++r) {
    const int64_t t = r / p.out_h;
    const int64_t y = r - t * p.out_h;
    const in_t* row0 = src + p.frame_index[t] * p.stride_t + p.row_first[y] * p.stride_h +
                       p.col_lo * p.stride_w;
    const float* wy = p.row_weight + y * p.row_taps;
    int64_t tmp_c_step;  // distance between channels in tmp
    int64_t tmp_x_step;  // distance between columns in tmp
    if (interleaved) {
      clip_vertical_contig(row0, p.row_taps, wy, n * C, p.stride_h, tmp);
      tmp_c_step = 1;
      tmp_x_step = C;
    } else if (planar) {
      for (int64_t c = 0; c < C; ++c) {
        clip_vertical_contig(row0 + c * p.stride_c, p.row_taps, wy, n, p.stride_h, tmp + c * n);
      }
      tmp_c_step = n;
      tmp_x_step = 1;
    } else {
      clip_vertical_generic(row0, p.row_taps, wy, C, n, p.stride_c, p.stride_h, p.stride_w, tmp, n);
      tmp_c_step = n;
      tmp_x_step = 1;
    }
    for (int64_t c = 0; c < C; ++c) {
      out_t* out = dst + c * plane + (t * p.out_h + y) * p.out_w;
      clip_horizontal(tmp + c * tmp_c_step, tmp_x_step, p.col_taps, p.col_first, p.col_weight,
                      p.out_w, p.alpha[c], p.beta[c], affine, out);
    }
  }
}
