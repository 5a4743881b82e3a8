// AVX2 version of the Q8_0-cache attention in attention.cpp, for the query heads that share one
// KV head. Keys go in tiles of eight: each block's integer dot products are exact in any order,
// so eight keys' sums are reduced together and then scaled and summed over the blocks in the
// scalar order, one fused multiply-add per block. Value rows are dequantized once per tile for
// all heads and each head's F32 accumulator is updated key by key as in the scalar version, so
// every head is bit-identical to attend_q8_0_scalar.
#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "kernels/cpu/attention_internal.h"

namespace lokal::kernels::detail {
namespace {

#define LOKAL_UNROLL _Pragma("GCC unroll 8")

constexpr int kTile = 8;  // keys per tile

// F16C conversion: exact, like fp16_to_fp32 (which is not inlined here: an out-of-line copy built
// with AVX2 enabled could be the one the linker keeps for baseline code).
inline float f16(uint16_t h) {
    return _cvtsh_ss(h);
}

// The 32 products of a block pair as eight int32 lanes (quants in -127..127, so the 16-bit pair
// sums of maddubs cannot saturate).
inline __m256i block_lanes(const block_q8_0& q, const block_q8_0& k) {
    const __m256i qv = _mm256_loadu_si256((const __m256i*)q.qs);
    const __m256i kv = _mm256_loadu_si256((const __m256i*)k.qs);
    const __m256i pairs = _mm256_maddubs_epi16(_mm256_sign_epi8(qv, qv), _mm256_sign_epi8(kv, qv));
    return _mm256_madd_epi16(pairs, _mm256_set1_epi16(1));
}

inline int32_t hsum_epi32(__m256i x) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(x), _mm256_extracti128_si256(x, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtsi128_si32(s);
}

// Eight keys' lane vectors to their eight sums, in key order.
inline __m256i reduce_8_keys(const __m256i* x) {
    const __m256i h01 = _mm256_hadd_epi32(x[0], x[1]);
    const __m256i h23 = _mm256_hadd_epi32(x[2], x[3]);
    const __m256i h45 = _mm256_hadd_epi32(x[4], x[5]);
    const __m256i h67 = _mm256_hadd_epi32(x[6], x[7]);
    // Per 128-bit half: (keys 0..3 | keys 4..7), each half holding part of every key's lanes.
    const __m256i a = _mm256_hadd_epi32(h01, h23);
    const __m256i b = _mm256_hadd_epi32(h45, h67);
    return _mm256_add_epi32(_mm256_permute2x128_si256(a, b, 0x20),
                            _mm256_permute2x128_si256(a, b, 0x31));
}

// The head's nb blocks of a value row as floats, q * d.
inline void dequantize_head(const block_q8_0* v, int nb, float* dst) {
    for (int b = 0; b < nb; ++b) {
        const __m256 d = _mm256_set1_ps(f16(v[b].d));
        LOKAL_UNROLL for (int i = 0; i < 4; ++i) {
            const __m128i q8 = _mm_loadl_epi64((const __m128i*)(v[b].qs + 8 * i));
            const __m256 q = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q8));
            _mm256_store_ps(dst + 32 * b + 8 * i, _mm256_mul_ps(q, d));
        }
    }
}

// kVecs vectors of one head's accumulator through the tile's n value rows: acc = acc * ms on a
// new maximum, then acc = fma(v, vs, acc), key by key.
template <int kVecs>
inline void accumulate_values(float* acc, const float (*vf)[kMaxHeadDim], int d, int n,
                              const float* ms, const float* vs) {
    __m256 a[kVecs];
    LOKAL_UNROLL for (int i = 0; i < kVecs; ++i) a[i] = _mm256_load_ps(acc + 8 * i);
    for (int jj = 0; jj < n; ++jj) {
        if (ms[jj] != 1.0f) {
            const __m256 r = _mm256_set1_ps(ms[jj]);
            LOKAL_UNROLL for (int i = 0; i < kVecs; ++i) a[i] = _mm256_mul_ps(a[i], r);
        }
        const __m256 w = _mm256_set1_ps(vs[jj]);
        LOKAL_UNROLL for (int i = 0; i < kVecs; ++i) {
            a[i] = _mm256_fmadd_ps(_mm256_load_ps(vf[jj] + d + 8 * i), w, a[i]);
        }
    }
    LOKAL_UNROLL for (int i = 0; i < kVecs; ++i) _mm256_store_ps(acc + 8 * i, a[i]);
}

template <int G>
void attend_group(const float* const* q, const KvSeqView& cache, int layer,
                  const AttentionParams& p, float* const* out) {
    constexpr int kDim = G == 1 ? kMaxHeadDim : kMaxGroupHeadDim;
    const int hd = p.head_dim, nb = hd / 32;  // hd a multiple of 32, at most kDim
    block_q8_0 qq[G][kDim / 32];
    alignas(32) float acc[G][kDim];
    alignas(32) float vf[kTile][kMaxHeadDim];
    float m[G], sum[G];
    for (int g = 0; g < G; ++g) {
        quantize_query_q8_0(q[g], hd, qq[g]);
        std::fill_n(acc[g], hd, 0.0f);
        m[g] = -INFINITY;
        sum[g] = 0.0f;
    }
    const float scale = score_scale(p);
    for (int j0 = p.first; j0 <= p.last; j0 += kTile) {
        const int n = std::min(kTile, p.last - j0 + 1);
        const block_q8_0* kb[kTile];
        for (int jj = 0; jj < n; ++jj) kb[jj] = q8_head(cache.k_row(layer, j0 + jj), p.kv_offset);
        float ms[G][kTile], vs[G][kTile];
        for (int g = 0; g < G; ++g) {
            alignas(32) float s[kTile];
            if (n == kTile) {
                __m256 acc8 = _mm256_setzero_ps();
                for (int b = 0; b < nb; ++b) {
                    __m256i lanes[kTile];
                    alignas(32) float dk[kTile];
                    LOKAL_UNROLL for (int jj = 0; jj < kTile; ++jj) {
                        lanes[jj] = block_lanes(qq[g][b], kb[jj][b]);
                        dk[jj] = f16(kb[jj][b].d);
                    }
                    const __m256 isum = _mm256_cvtepi32_ps(reduce_8_keys(lanes));
                    const __m256 dkq =
                        _mm256_mul_ps(_mm256_load_ps(dk), _mm256_set1_ps(f16(qq[g][b].d)));
                    acc8 = _mm256_fmadd_ps(isum, dkq, acc8);
                }
                _mm256_store_ps(s, _mm256_mul_ps(acc8, _mm256_set1_ps(scale)));
            } else {
                for (int jj = 0; jj < n; ++jj) {
                    float dot = 0.0f;
                    for (int b = 0; b < nb; ++b) {
                        const float isum = (float)hsum_epi32(block_lanes(qq[g][b], kb[jj][b]));
                        dot = std::fma(isum, f16(kb[jj][b].d) * f16(qq[g][b].d), dot);
                    }
                    s[jj] = dot * scale;
                }
            }
            online_softmax_keys(s, n, p.softcap, &m[g], &sum[g], ms[g], vs[g]);
        }
        for (int jj = 0; jj < n; ++jj) {
            dequantize_head(q8_head(cache.v_row(layer, j0 + jj), p.kv_offset), nb, vf[jj]);
        }
        for (int g = 0; g < G; ++g) {
            int d = 0;
            for (; d + 64 <= hd; d += 64) accumulate_values<8>(acc[g] + d, vf, d, n, ms[g], vs[g]);
            for (; d < hd; d += 32) accumulate_values<4>(acc[g] + d, vf, d, n, ms[g], vs[g]);
        }
    }
    for (int g = 0; g < G; ++g) {
        const float inv = sum[g] > 0 ? 1.0f / sum[g] : 0.0f;
        for (int d = 0; d < hd; ++d) out[g][d] = acc[g][d] * inv;
    }
}

}  // namespace

bool attend_q8_0_avx2_group(const float* const* q, int n_heads, const KvSeqView& cache, int layer,
                            const AttentionParams& p, float* const* out) {
    if (p.head_dim % 32 != 0 || (n_heads > 1 && p.head_dim > kMaxGroupHeadDim)) return false;
    return with_group_size(n_heads, [&](auto group) {
        attend_group<decltype(group)::value>(q, cache, layer, p, out);
    });
}

// The AVX2 table's group kernel for a Q8_0 cache: heads together where the shape allows, else one
// by one, each on the scalar reference where even one head is not served.
void attend_q8_0_heads_avx2(const float* const* q, int n_heads, const KvSeqView& cache, int layer,
                            const AttentionParams& p, float* const* out) {
    if (attend_q8_0_avx2_group(q, n_heads, cache, layer, p, out)) return;
    for (int g = 0; g < n_heads; ++g) {
        if (!attend_q8_0_avx2_group(&q[g], 1, cache, layer, p, &out[g])) {
            attend_q8_0_scalar(q[g], cache, layer, p, out[g]);
        }
    }
}

}  // namespace lokal::kernels::detail
