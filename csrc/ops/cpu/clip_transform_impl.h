// The CPU clip_transform kernel on raw pointers. No torch types here: clip_transform_kernel.cpp
// includes this file twice, once for the portable build (FASTVID_CPU_AVX2 0) and once under an
// AVX2+FMA+F16C target (FASTVID_CPU_AVX2 1), each in a namespace of its own, and dispatches between
// them at run time. (GCC's target pragma does not define __AVX2__ for C++ preprocessing, hence the
// includer's macro.)
//
// Work unit: one output row (frame t, crop row y). For each row:
//   1. vertical pass: tmp[c][x] = sum_i wy[i] * src[frame(t), row_first[y] + i, col_lo + x, c] over
//      the source columns the crop needs (col_count of them), as float, one plane per channel
//      (interleaved THWC rows are filtered as one contiguous run, then split into planes);
//   2. horizontal pass: out[c][t][y][x] = (sum_j wx[j] * tmp[c][col_first[x] + j]) * alpha_c + beta_c,
//      8 outputs at a time, converted to the output type and stored. The taps of 8 outputs are read
//      as a permute of one 8-float window per tap (upscaling, crops), or as one 4- or 8-float window
//      per output times its zero-padded weights (downscaling, antialias up to 8 taps), or gathered.
//      (Zero weights times a window's other pixels: non-finite input values can spread to the
//      neighbouring outputs; finite inputs are unaffected.)
// The per-row buffers (a few KiB) are the only intermediates: per thread, never a frame or a clip.
//
// Expected from the includer: <immintrin.h> on x86, <cstdint>, <algorithm>, <cmath>, c10 BFloat16 and
// Half, clip_transform.h, cpu/clip_transform_plan.h, and FASTVID_CPU_AVX2 defined to 0 or 1.

// Converts the finished value to the output type (uint8: round half to even, clamp; NaN gives 0).
template <typename out_t>
inline out_t clip_store(float v);

template <>
inline float clip_store<float>(float v) {
  return v;
}

template <>
inline uint8_t clip_store<uint8_t>(float v) {
  v = std::nearbyint(v);
  if (!(v > 0.0f)) {
    return 0;
  }
  return v >= 255.0f ? uint8_t{255} : static_cast<uint8_t>(v);
}

template <>
inline c10::BFloat16 clip_store<c10::BFloat16>(float v) {
  return c10::BFloat16(v);
}

template <>
inline c10::Half clip_store<c10::Half>(float v) {
  return c10::Half(v);
}

// a * b + c rounded as the vector code rounds it: fused in the AVX2 build (so that every vertical-pass
// code path, vector or scalar, gives bit-identical values whatever the clip's strides), plain in the
// portable one.
inline float clip_madd(float a, float b, float c) {
#if FASTVID_CPU_AVX2
  return __builtin_fmaf(a, b, c);
#else
  return a * b + c;
#endif
}

#if FASTVID_CPU_AVX2
inline __m256 clip_load8(const uint8_t* p) {
  return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
}

inline __m256 clip_load8(const float* p) {
  return _mm256_loadu_ps(p);
}

inline void clip_store8(float* d, __m256 v) {
  _mm256_storeu_ps(d, v);
}

inline void clip_store8(c10::BFloat16* d, __m256 v) {
  // Round to nearest even on the upper 16 bits, NaN as 0x7FC0: c10::BFloat16(float) exactly.
  const __m256i bits = _mm256_castps_si256(v);
  const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(bits, 16), _mm256_set1_epi32(1));
  __m256i r = _mm256_srli_epi32(_mm256_add_epi32(bits, _mm256_add_epi32(lsb, _mm256_set1_epi32(0x7FFF))), 16);
  const __m256 nan = _mm256_cmp_ps(v, v, _CMP_UNORD_Q);
  r = _mm256_blendv_epi8(r, _mm256_set1_epi32(0x7FC0), _mm256_castps_si256(nan));
  const __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(r, r), 0x08);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(d), _mm256_castsi256_si128(packed));
}

inline void clip_store8(c10::Half* d, __m256 v) {
  _mm_storeu_si128(reinterpret_cast<__m128i*>(d), _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
}

inline void clip_store8(uint8_t* d, __m256 v) {
  v = _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  v = _mm256_min_ps(_mm256_max_ps(v, _mm256_setzero_ps()), _mm256_set1_ps(255.0f));  // NaN -> 0
  const __m256i i = _mm256_cvttps_epi32(v);
  const __m256i p16 = _mm256_packus_epi32(i, i);   // per 128-bit lane: i0..i3 i0..i3 | i4..i7 i4..i7
  const __m256i p8 = _mm256_packus_epi16(p16, p16);
  const __m128i bytes = _mm_unpacklo_epi32(_mm256_castsi256_si128(p8), _mm256_extracti128_si256(p8, 1));
  _mm_storel_epi64(reinterpret_cast<__m128i*>(d), bytes);
}
#endif

// dst[x] = sum_i w[i] * src_i[x] for x in [0, n), src_i = row0 + i * sh: contiguous source rows (a
// planar CTHW row, or a THWC row read as one interleaved run of n = width * C values).
template <typename in_t>
inline void clip_vertical_contig(const in_t* row0, int64_t taps, const float* w, int64_t n,
                                 int64_t sh, float* dst) {
  int64_t x = 0;
#if FASTVID_CPU_AVX2
  if (taps == 1) {
    const __m256 w0 = _mm256_set1_ps(w[0]);
    for (; x + kCpuLanes <= n; x += kCpuLanes) {
      _mm256_storeu_ps(dst + x, _mm256_mul_ps(w0, clip_load8(row0 + x)));
    }
  } else if (taps == 2) {
    const in_t* r1 = row0 + sh;
    const __m256 w0 = _mm256_set1_ps(w[0]);
    const __m256 w1 = _mm256_set1_ps(w[1]);
    for (; x + kCpuLanes <= n; x += kCpuLanes) {
      const __m256 a = _mm256_mul_ps(w0, clip_load8(row0 + x));
      _mm256_storeu_ps(dst + x, _mm256_fmadd_ps(w1, clip_load8(r1 + x), a));
    }
  } else {
    for (; x + kCpuLanes <= n; x += kCpuLanes) {
      __m256 acc = _mm256_mul_ps(_mm256_set1_ps(w[0]), clip_load8(row0 + x));
      for (int64_t i = 1; i < taps; ++i) {
        acc = _mm256_fmadd_ps(_mm256_set1_ps(w[i]), clip_load8(row0 + i * sh + x), acc);
      }
      _mm256_storeu_ps(dst + x, acc);
    }
  }
#endif
  // The rest (all of it in the portable build), in loops the compiler vectorizes.
  const float w0 = w[0];
  if (taps == 2) {
    const in_t* r1 = row0 + sh;
    const float w1 = w[1];
    for (; x < n; ++x) {
      dst[x] = clip_madd(w1, static_cast<float>(r1[x]), w0 * static_cast<float>(row0[x]));
    }
    return;
  }
  const int64_t x0 = x;
  for (; x < n; ++x) {
    dst[x] = w0 * static_cast<float>(row0[x]);
  }
  for (int64_t i = 1; i < taps; ++i) {
    const in_t* ri = row0 + i * sh;
    const float wi = w[i];
    for (x = x0; x < n; ++x) {
      dst[x] = clip_madd(wi, static_cast<float>(ri[x]), dst[x]);
    }
  }
}

// Any strides: tmp[c * pitch + x] = sum_i w[i] * src[c * sc + i * sh + x * sw].
template <typename in_t>
inline void clip_vertical_generic(const in_t* row0, int64_t taps, const float* w, int64_t channels,
                                  int64_t n, int64_t sc, int64_t sh, int64_t sw, float* tmp,
                                  int64_t pitch) {
  for (int64_t c = 0; c < channels; ++c) {
    float* t = tmp + c * pitch;
    const in_t* s = row0 + c * sc;
    for (int64_t x = 0; x < n; ++x) {
      float acc = w[0] * static_cast<float>(s[x * sw]);
      for (int64_t i = 1; i < taps; ++i) {
        acc = clip_madd(w[i], static_cast<float>(s[i * sh + x * sw]), acc);
      }
      t[x] = acc;
    }
  }
}

#if FASTVID_CPU_AVX2
// 8 RGB pixels in three registers (a, b, c: 24 interleaved values) -> one register per channel,
// stored at r, g, b (blend, then permute into order).
inline void clip_split_rgb8(__m256 a, __m256 b, __m256 c, float* r, float* g, float* bl) {
  const __m256i perm_r = _mm256_setr_epi32(0, 3, 6, 1, 4, 7, 2, 5);
  const __m256i perm_g = _mm256_setr_epi32(1, 4, 7, 2, 5, 0, 3, 6);
  const __m256i perm_b = _mm256_setr_epi32(2, 5, 0, 3, 6, 1, 4, 7);
  _mm256_storeu_ps(r, _mm256_permutevar8x32_ps(_mm256_blend_ps(_mm256_blend_ps(a, b, 0x92), c, 0x24), perm_r));
  _mm256_storeu_ps(g, _mm256_permutevar8x32_ps(_mm256_blend_ps(_mm256_blend_ps(a, b, 0x24), c, 0x49), perm_g));
  _mm256_storeu_ps(bl, _mm256_permutevar8x32_ps(_mm256_blend_ps(_mm256_blend_ps(a, b, 0x49), c, 0x92), perm_b));
}
#endif

// Splits n interleaved pixels of `channels` values into planes tmp[c * pitch + x].
inline void clip_deinterleave(const float* src, int64_t channels, int64_t n, float* tmp,
                              int64_t pitch) {
  int64_t x = 0;
#if FASTVID_CPU_AVX2
  if (channels == 3) {
    for (; x + kCpuLanes <= n; x += kCpuLanes) {
      const float* s = src + 3 * x;
      clip_split_rgb8(_mm256_loadu_ps(s), _mm256_loadu_ps(s + 8), _mm256_loadu_ps(s + 16), tmp + x,
                      tmp + pitch + x, tmp + 2 * pitch + x);
    }
  }
#endif
  for (; x < n; ++x) {
    for (int64_t c = 0; c < channels; ++c) {
      tmp[c * pitch + x] = src[x * channels + c];
    }
  }
}

// Vertical pass of an interleaved 3-channel row straight into the planes (no scratch round trip):
// returns how many of the n pixels it did (a multiple of 8; 0 in the portable build).
template <typename in_t>
inline int64_t clip_vertical_rgb(const in_t* row0, int64_t taps, const float* w, int64_t n, int64_t sh,
                                 float* tmp, int64_t pitch) {
  int64_t x = 0;
#if FASTVID_CPU_AVX2
  float* r = tmp;
  float* g = tmp + pitch;
  float* b = tmp + 2 * pitch;
  if (taps == 2) {
    const in_t* r1 = row0 + sh;
    const __m256 w0 = _mm256_set1_ps(w[0]);
    const __m256 w1 = _mm256_set1_ps(w[1]);
    for (; x + kCpuLanes <= n; x += kCpuLanes) {
      const in_t* s0 = row0 + 3 * x;
      const in_t* s1 = r1 + 3 * x;
      const __m256 a = _mm256_fmadd_ps(w1, clip_load8(s1), _mm256_mul_ps(w0, clip_load8(s0)));
      const __m256 bb = _mm256_fmadd_ps(w1, clip_load8(s1 + 8), _mm256_mul_ps(w0, clip_load8(s0 + 8)));
      const __m256 c = _mm256_fmadd_ps(w1, clip_load8(s1 + 16), _mm256_mul_ps(w0, clip_load8(s0 + 16)));
      clip_split_rgb8(a, bb, c, r + x, g + x, b + x);
    }
  } else {
    for (; x + kCpuLanes <= n; x += kCpuLanes) {
      const in_t* s = row0 + 3 * x;
      __m256 wi = _mm256_set1_ps(w[0]);
      __m256 a = _mm256_mul_ps(wi, clip_load8(s));
      __m256 bb = _mm256_mul_ps(wi, clip_load8(s + 8));
      __m256 c = _mm256_mul_ps(wi, clip_load8(s + 16));
      for (int64_t i = 1; i < taps; ++i) {
        const in_t* si = s + i * sh;
        wi = _mm256_set1_ps(w[i]);
        a = _mm256_fmadd_ps(wi, clip_load8(si), a);
        bb = _mm256_fmadd_ps(wi, clip_load8(si + 8), bb);
        c = _mm256_fmadd_ps(wi, clip_load8(si + 16), c);
      }
      clip_split_rgb8(a, bb, c, r + x, g + x, b + x);
    }
  }
#else
  (void)row0, (void)taps, (void)w, (void)n, (void)sh, (void)tmp, (void)pitch;
#endif
  return x;
}

// Outputs [x0, out_w) of one row of every channel, one at a time, from the vertical pass's values
// src[c * c_step + x * x_step] (planes: c_step = pitch, x_step = 1; interleaved: 1 and C).
template <typename out_t>
inline void clip_horizontal_scalar(const fastvid::ClipTransformParams& p, const float* src, int64_t c_step,
                                   int64_t x_step, int64_t x0, out_t* const* out) {
  const int64_t taps = p.col_taps;
  for (int64_t c = 0; c < p.channels; ++c) {
    const float* s0 = src + c * c_step;
    const float alpha = p.alpha[c];
    const float beta = p.beta[c];
    out_t* o = out[c];
    if (taps == 2) {
      for (int64_t x = x0; x < p.out_w; ++x) {
        const float* s = s0 + p.col_first[x] * x_step;
        const float v = p.col_weight[2 * x] * s[0] + p.col_weight[2 * x + 1] * s[x_step];
        o[x] = clip_store<out_t>(v * alpha + beta);
      }
      continue;
    }
    for (int64_t x = x0; x < p.out_w; ++x) {
      const float* s = s0 + p.col_first[x] * x_step;
      const float* w = p.col_weight + x * taps;
      float v = w[0] * s[0];
      for (int64_t j = 1; j < taps; ++j) {
        v += w[j] * s[j * x_step];
      }
      o[x] = clip_store<out_t>(v * alpha + beta);
    }
  }
}

#if FASTVID_CPU_AVX2
// The 8-wide part of clip_horizontal (outputs [0, plan.vec_w)), for kC channels: a compile-time
// channel count keeps the per-channel constants and pointers in registers.
template <int64_t kC, typename out_t>
inline void clip_horizontal_vec(const fastvid::ClipTransformParams& p, const fastvid::ClipTransformCpuPlan& plan,
                                const float* tmp, out_t* const* out) {
  constexpr int64_t C = kC;
  const int64_t taps = p.col_taps;
  const int64_t pitch = plan.tmp_pitch;
  __m256 alpha[kC];
  __m256 beta[kC];
  out_t* o[kC];
  for (int64_t c = 0; c < kC; ++c) {
    alpha[c] = _mm256_set1_ps(p.alpha[c]);
    beta[c] = _mm256_set1_ps(p.beta[c]);
    o[c] = out[c];
  }
  const int64_t vw = plan.vec_w;
  if (plan.permute) {
    for (int64_t x = 0; x < vw; x += kCpuLanes) {
      const __m256i rel = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(plan.group_rel + x));
      const float* base = tmp + plan.group_base[x / kCpuLanes];
      if (taps == 2) {
        const __m256 w0 = _mm256_loadu_ps(plan.weight_soa + x);
        const __m256 w1 = _mm256_loadu_ps(plan.weight_soa + vw + x);
        for (int64_t c = 0; c < C; ++c) {
          const float* s = base + c * pitch;
          const __m256 a = _mm256_mul_ps(w0, _mm256_permutevar8x32_ps(_mm256_loadu_ps(s), rel));
          const __m256 v = _mm256_fmadd_ps(w1, _mm256_permutevar8x32_ps(_mm256_loadu_ps(s + 1), rel), a);
          clip_store8(o[c] + x, _mm256_fmadd_ps(v, alpha[c], beta[c]));
        }
      } else {
        for (int64_t c = 0; c < C; ++c) {
          const float* s = base + c * pitch;
          __m256 v = _mm256_mul_ps(_mm256_loadu_ps(plan.weight_soa + x),
                                   _mm256_permutevar8x32_ps(_mm256_loadu_ps(s), rel));
          for (int64_t j = 1; j < taps; ++j) {
            v = _mm256_fmadd_ps(_mm256_loadu_ps(plan.weight_soa + j * vw + x),
                                _mm256_permutevar8x32_ps(_mm256_loadu_ps(s + j), rel), v);
          }
          clip_store8(o[c] + x, _mm256_fmadd_ps(v, alpha[c], beta[c]));
        }
      }
    }
  } else if (plan.window == 4) {
    // Each output: its (up to) 4 taps as one 4-float window times its weights; outputs k and k + 4
    // share a register, and three horizontal adds reduce 8 windows to 8 outputs.
    for (int64_t x = 0; x < vw; x += kCpuLanes) {
      const int32_t* f = plan.first32 + x;
      const float* w = plan.window_weight + x * 4;
      for (int64_t c = 0; c < C; ++c) {
        const float* s = tmp + c * pitch;
        __m256 y[4];
        for (int k = 0; k < 4; ++k) {
          const __m256 win = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(s + f[k])),
                                                  _mm_loadu_ps(s + f[k + 4]), 1);
          y[k] = _mm256_mul_ps(win, _mm256_loadu_ps(w + 8 * k));
        }
        const __m256 v = _mm256_hadd_ps(_mm256_hadd_ps(y[0], y[1]), _mm256_hadd_ps(y[2], y[3]));
        clip_store8(o[c] + x, _mm256_fmadd_ps(v, alpha[c], beta[c]));
      }
    }
  } else if (plan.window == 8) {
    // The same with 8-float windows (5 to 8 taps): 8 products, six horizontal adds, one cross-lane add.
    for (int64_t x = 0; x < vw; x += kCpuLanes) {
      const int32_t* f = plan.first32 + x;
      const float* w = plan.window_weight + x * 8;
      for (int64_t c = 0; c < C; ++c) {
        const float* s = tmp + c * pitch;
        __m256 y[8];
        for (int k = 0; k < 8; ++k) {
          y[k] = _mm256_mul_ps(_mm256_loadu_ps(s + f[k]), _mm256_loadu_ps(w + 8 * k));
        }
        const __m256 q0 = _mm256_hadd_ps(_mm256_hadd_ps(y[0], y[1]), _mm256_hadd_ps(y[2], y[3]));
        const __m256 q1 = _mm256_hadd_ps(_mm256_hadd_ps(y[4], y[5]), _mm256_hadd_ps(y[6], y[7]));
        const __m256 v = _mm256_add_ps(_mm256_permute2f128_ps(q0, q1, 0x20), _mm256_permute2f128_ps(q0, q1, 0x31));
        clip_store8(o[c] + x, _mm256_fmadd_ps(v, alpha[c], beta[c]));
      }
    }
  } else {
    for (int64_t x = 0; x < vw; x += kCpuLanes) {
      const __m256i idx = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(plan.first32 + x));
      for (int64_t c = 0; c < C; ++c) {
        const float* s = tmp + c * pitch;
        __m256 v = _mm256_mul_ps(_mm256_loadu_ps(plan.weight_soa + x), _mm256_i32gather_ps(s, idx, 4));
        for (int64_t j = 1; j < taps; ++j) {
          v = _mm256_fmadd_ps(_mm256_loadu_ps(plan.weight_soa + j * vw + x),
                              _mm256_i32gather_ps(s + j, idx, 4), v);
        }
        clip_store8(o[c] + x, _mm256_fmadd_ps(v, alpha[c], beta[c]));
      }
    }
  }
}
#endif

// One output row of every channel from the planes tmp[c * pitch + ...]:
// out_c[x] = (sum_j wx[x][j] * tmp_c[first[x] + j]) * alpha[c] + beta[c], x in [0, out_w).
template <typename out_t>
inline void clip_horizontal(const fastvid::ClipTransformParams& p, const fastvid::ClipTransformCpuPlan& plan,
                            const float* tmp, out_t* const* out) {
  int64_t x0 = 0;
#if FASTVID_CPU_AVX2
  switch (p.channels) {
    case 1:
      clip_horizontal_vec<1>(p, plan, tmp, out);
      break;
    case 2:
      clip_horizontal_vec<2>(p, plan, tmp, out);
      break;
    case 3:
      clip_horizontal_vec<3>(p, plan, tmp, out);
      break;
    default:
      clip_horizontal_vec<4>(p, plan, tmp, out);
      break;
  }
  x0 = plan.vec_w;
#endif
  (void)plan;
  clip_horizontal_scalar(p, tmp, plan.tmp_pitch, 1, x0, out);
}

// Prefetches `rows` source rows of `len` contiguous elements, `sh` apart, for each of `planes` planes
// `sc` apart.
template <typename in_t>
inline void clip_prefetch_rows(const in_t* row0, int64_t rows, int64_t sh, int64_t planes, int64_t sc,
                               int64_t len) {
  constexpr int64_t kLine = 64 / sizeof(in_t);
  for (int64_t c = 0; c < planes; ++c) {
    for (int64_t i = 0; i < rows; ++i) {
      const in_t* r = row0 + c * sc + i * sh;
      for (int64_t x = 0; x < len; x += kLine) {
        __builtin_prefetch(r + x, 0, 3);
      }
      __builtin_prefetch(r + len - 1, 0, 3);
    }
  }
}

// How many output rows ahead clip_transform_rows prefetches the source rows.
constexpr int64_t kPrefetchRows = 2;

// Floats of per-thread buffer that clip_transform_rows needs.
inline int64_t clip_buffer_size(const fastvid::ClipTransformParams& p, const fastvid::ClipTransformCpuPlan& plan) {
  return p.channels * plan.tmp_pitch + p.channels * p.col_count + kCpuLanes;
}

// Computes output rows [row_begin, row_end) of the clip, row r being frame r / out_h, crop row
// r % out_h. `buffer` holds clip_buffer_size floats.
template <typename in_t, typename out_t>
void clip_transform_rows(const fastvid::ClipTransformParams& p, const fastvid::ClipTransformCpuPlan& plan,
                         const in_t* src, out_t* dst, int64_t row_begin, int64_t row_end, float* buffer) {
  const int64_t C = p.channels;
  const int64_t n = p.col_count;
  const int64_t pitch = plan.tmp_pitch;
  float* tmp = buffer;                    // C planes of `pitch` floats
  float* scratch = buffer + C * pitch;    // one interleaved row, n * C floats
  const int64_t plane = p.out_t * p.out_h * p.out_w;  // elements per output channel
  // Source row layouts that the vertical pass reads as contiguous runs.
  const bool planar = p.stride_w == 1;                                  // CTHW rows
  const bool interleaved = !planar && p.stride_c == 1 && p.stride_w == C;  // THWC rows
  out_t* out[fastvid::kMaxChannels];
  for (int64_t r = row_begin; r < row_end; ++r) {
    const int64_t t = r / p.out_h;
    const int64_t y = r - t * p.out_h;
    const in_t* row0 = src + p.frame_index[t] * p.stride_t + p.row_first[y] * p.stride_h +
                       p.col_lo * p.stride_w;
    const float* wy = p.row_weight + y * p.row_taps;
    if (r + kPrefetchRows < p.out_t * p.out_h && (planar || interleaved)) {
      // The source rows of a row a few rows ahead: short runs (a crop's width) that the hardware
      // prefetcher would only pick up halfway through, fetched while this row computes.
      const int64_t tn = (r + kPrefetchRows) / p.out_h;
      const int64_t yn = (r + kPrefetchRows) - tn * p.out_h;
      const in_t* next = src + p.frame_index[tn] * p.stride_t + p.row_first[yn] * p.stride_h +
                         p.col_lo * p.stride_w;
      clip_prefetch_rows(next, p.row_taps, p.stride_h, planar ? C : 1, p.stride_c, planar ? n : n * C);
    }
    for (int64_t c = 0; c < C; ++c) {
      out[c] = dst + c * plane + r * p.out_w;
    }
#if !FASTVID_CPU_AVX2
    if (interleaved) {
      // Portable build: the horizontal pass reads the interleaved values in place (no split).
      clip_vertical_contig(row0, p.row_taps, wy, n * C, p.stride_h, scratch);
      clip_horizontal_scalar(p, scratch, 1, C, 0, out);
      continue;
    }
#endif
    if (planar) {
      for (int64_t c = 0; c < C; ++c) {
        clip_vertical_contig(row0 + c * p.stride_c, p.row_taps, wy, n, p.stride_h, tmp + c * pitch);
      }
    } else if (interleaved) {
      const int64_t done = C == 3 ? clip_vertical_rgb(row0, p.row_taps, wy, n, p.stride_h, tmp, pitch) : 0;
      if (done < n) {
        clip_vertical_contig(row0 + done * C, p.row_taps, wy, (n - done) * C, p.stride_h, scratch);
        clip_deinterleave(scratch, C, n - done, tmp + done, pitch);
      }
    } else {
      clip_vertical_generic(row0, p.row_taps, wy, C, n, p.stride_c, p.stride_h, p.stride_w, tmp, pitch);
    }
    clip_horizontal(p, plan, tmp, out);
  }
}

