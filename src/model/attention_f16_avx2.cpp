// AVX2 + F16C versions of the F16-cache attention in attention.cpp, for one query head or for
// the query heads that share one KV head (grouped-query attention: each F16 key and value row is
// converted once for all of them). Every operation rounds exactly as the scalar version does
// (the q·k lanes and their reduction follow dot_f16_lanes; the F16 accumulator uses the same
// fused multiply-add and round-to-nearest-even), so all are bit-identical head by head.
#include <immintrin.h>

#include <cmath>

#include "model/attention_internal.h"

namespace lokal::model::detail {
namespace {

inline __m256 round_f16(__m256 x) {
    return _mm256_cvtph_ps(_mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT));
}

inline float reduce_lanes(__m256 lanes) {
    // dot_f16_lanes' pairwise order: (l, l+4), then (l, l+2), then (0, 1).
    const __m128 a = _mm_add_ps(_mm256_castps256_ps128(lanes), _mm256_extractf128_ps(lanes, 1));
    const __m128 b = _mm_add_ps(a, _mm_movehl_ps(a, a));
    return _mm_cvtss_f32(_mm_add_ss(b, _mm_movehdup_ps(b)));
}

// G query heads over one KV head. A single head may be kMaxHeadDim wide; groups (their buffers
// are G times larger) at most kMaxGroupHeadDim.
template <int G>
void attend_group(const float* const* q, const KvSeqView& cache, int layer,
                  const AttentionParams& p, float* const* out) {
    constexpr int kDim = G == 1 ? kMaxHeadDim : kMaxGroupHeadDim;
    const int hd = p.head_dim;  // a multiple of 8, at most kDim (checked by the callers)
    alignas(32) float qv[G][kDim];
    alignas(32) float acc[G][kDim];  // values always representable in F16
    float m[G], sum[G];
    for (int g = 0; g < G; ++g) {
        for (int d = 0; d < hd; d += 8) {
            const __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(q[g] + d), _MM_FROUND_TO_NEAREST_INT);
            _mm256_store_ps(qv[g] + d, _mm256_cvtph_ps(h));
            _mm256_store_ps(acc[g] + d, _mm256_setzero_ps());
        }
        m[g] = -INFINITY;
        sum[g] = 0.0f;
    }
    const float scale = p.softcap > 0 ? p.scale / p.softcap : p.scale;
    for (int j = p.first; j <= p.last; ++j) {
        const uint16_t* k = static_cast<const uint16_t*>(cache.k_row(layer, j)) + p.kv_offset;
        __m256 lanes[G];
        for (int g = 0; g < G; ++g) lanes[g] = _mm256_setzero_ps();
        for (int d = 0; d < hd; d += 8) {
            const __m256 kf = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i*)(k + d)));
            for (int g = 0; g < G; ++g) {
                lanes[g] = _mm256_fmadd_ps(_mm256_load_ps(qv[g] + d), kf, lanes[g]);
            }
        }
        float vs[G];
        for (int g = 0; g < G; ++g) {
            float s = reduce_lanes(lanes[g]) * scale;
            if (p.softcap > 0) s = p.softcap * std::tanh(s);
            float ms = 1.0f;
            vs[g] = 1.0f;
            if (s > m[g]) {
                ms = std::exp(m[g] - s);
                m[g] = s;
                const __m256 msv = _mm256_set1_ps(ms);
                for (int d = 0; d < hd; d += 8) {
                    _mm256_store_ps(acc[g] + d,
                                    round_f16(_mm256_mul_ps(_mm256_load_ps(acc[g] + d), msv)));
                }
            } else {
                vs[g] = std::exp(s - m[g]);
            }
            sum[g] = sum[g] * ms + vs[g];
        }
        const uint16_t* v = static_cast<const uint16_t*>(cache.v_row(layer, j)) + p.kv_offset;
        __m256 vsv[G];
        for (int g = 0; g < G; ++g) vsv[g] = _mm256_set1_ps(vs[g]);
        for (int d = 0; d < hd; d += 8) {
            const __m256 vf = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i*)(v + d)));
            for (int g = 0; g < G; ++g) {
                _mm256_store_ps(acc[g] + d,
                                round_f16(_mm256_fmadd_ps(vf, vsv[g], _mm256_load_ps(acc[g] + d))));
            }
        }
    }
    for (int g = 0; g < G; ++g) {
        const float inv = sum[g] > 0 ? 1.0f / sum[g] : 0.0f;
        for (int d = 0; d < hd; ++d) out[g][d] = acc[g][d] * inv;
    }
}

}  // namespace

void attend_f16_avx2(const float* q, const KvSeqView& cache, int layer, const AttentionParams& p,
                     float* out) {
    attend_group<1>(&q, cache, layer, p, &out);
}

bool attend_f16_avx2_group(const float* const* q, int n_heads, const KvSeqView& cache, int layer,
                           const AttentionParams& p, float* const* out) {
    if (p.head_dim % 8 != 0 || p.head_dim > kMaxGroupHeadDim) return false;
    switch (n_heads) {
        case 1:
            attend_group<1>(q, cache, layer, p, out);
            return true;
        case 2:
            attend_group<2>(q, cache, layer, p, out);
            return true;
        case 3:
            attend_group<3>(q, cache, layer, p, out);
            return true;
        case 4:
            attend_group<4>(q, cache, layer, p, out);
            return true;
        case 5:
            attend_group<5>(q, cache, layer, p, out);
            return true;
        case 6:
            attend_group<6>(q, cache, layer, p, out);
            return true;
        case 7:
            attend_group<7>(q, cache, layer, p, out);
            return true;
        case 8:
            attend_group<8>(q, cache, layer, p, out);
            return true;
        default:
            return false;
    }
}

}  // namespace lokal::model::detail
