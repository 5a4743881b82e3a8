// AVX2 + F16C version of the F16-cache attention in attention.cpp. Every operation rounds
// exactly as the scalar version does (the q·k lanes and their reduction follow
// dot_f16_lanes; the F16 accumulator uses the same fused multiply-add and round-to-nearest-
// even), so the two are bit-identical.
#include <immintrin.h>

#include <cmath>

#include "model/attention_internal.h"

namespace lokal::model::detail {

void attend_f16_avx2(const float* q, const KvSeqView& cache, int layer, const AttentionParams& p,
                     float* out) {
    const int hd = p.head_dim;  // a multiple of 8 (checked by the caller)
    alignas(32) float qv[kMaxHeadDim];
    alignas(32) float acc[kMaxHeadDim];  // values always representable in F16
    for (int d = 0; d < hd; d += 8) {
        const __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(q + d), _MM_FROUND_TO_NEAREST_INT);
        _mm256_store_ps(qv + d, _mm256_cvtph_ps(h));
        _mm256_store_ps(acc + d, _mm256_setzero_ps());
    }
    float m = -INFINITY, sum = 0.0f;
    const float scale = p.softcap > 0 ? p.scale / p.softcap : p.scale;
    auto round_f16 = [](__m256 x) {
        return _mm256_cvtph_ps(_mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT));
    };
    for (int j = p.first; j <= p.last; ++j) {
        const uint16_t* k = static_cast<const uint16_t*>(cache.k_row(layer, j)) + p.kv_offset;
        __m256 lanes = _mm256_setzero_ps();
        for (int d = 0; d < hd; d += 8) {
            const __m256 kf = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i*)(k + d)));
            lanes = _mm256_fmadd_ps(_mm256_load_ps(qv + d), kf, lanes);
        }
        // The same pairwise reduction as dot_f16_lanes: (l, l+4), then (l, l+2), then (0, 1).
        const __m128 a = _mm_add_ps(_mm256_castps256_ps128(lanes), _mm256_extractf128_ps(lanes, 1));
        const __m128 b = _mm_add_ps(a, _mm_movehl_ps(a, a));
        const float dot = _mm_cvtss_f32(_mm_add_ss(b, _mm_movehdup_ps(b)));
        float s = dot * scale;
        if (p.softcap > 0) s = p.softcap * std::tanh(s);
        const uint16_t* v = static_cast<const uint16_t*>(cache.v_row(layer, j)) + p.kv_offset;
        float ms = 1.0f, vs = 1.0f;
        if (s > m) {
            ms = std::exp(m - s);
            m = s;
            const __m256 msv = _mm256_set1_ps(ms);
            for (int d = 0; d < hd; d += 8) {
                _mm256_store_ps(acc + d, round_f16(_mm256_mul_ps(_mm256_load_ps(acc + d), msv)));
            }
        } else {
            vs = std::exp(s - m);
        }
        const __m256 vsv = _mm256_set1_ps(vs);
        for (int d = 0; d < hd; d += 8) {
            const __m256 vf = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i*)(v + d)));
            _mm256_store_ps(acc + d, round_f16(_mm256_fmadd_ps(vf, vsv, _mm256_load_ps(acc + d))));
        }
        sum = sum * ms + vs;
    }
    const float inv = sum > 0 ? 1.0f / sum : 0.0f;
    for (int d = 0; d < hd; ++d) out[d] = acc[d] * inv;
}

}  // namespace lokal::model::detail
