// AVX2 + F16C versions of the F16-cache attention in attention.cpp, for one query head or for
// the query heads that share one KV head (grouped-query attention: each F16 key and value row is
// converted once for all of them). Every operation rounds exactly as the scalar version does
// (the q·k lanes and their reduction follow dot_f16_lanes; the F16 accumulator uses the same
// fused multiply-add and round-to-nearest-even), so all are bit-identical head by head.
#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "kernels/cpu/attention_internal.h"
#include "kernels/cpu/exp_poly_avx2.h"

namespace lokal::kernels::detail {
namespace {

// Loops over the tile's keys and a head's vectors must unroll: their accumulators then stay in
// registers.
#define LOKAL_UNROLL _Pragma("GCC unroll 8")

inline __m256 round_f16(__m256 x) {
    return _mm256_cvtph_ps(_mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT));
}

inline float reduce_lanes(__m256 lanes) {
    // dot_f16_lanes' pairwise order: (l, l+4), then (l, l+2), then (0, 1).
    const __m128 a = _mm_add_ps(_mm256_castps256_ps128(lanes), _mm256_extractf128_ps(lanes, 1));
    const __m128 b = _mm_add_ps(a, _mm_movehl_ps(a, a));
    return _mm_cvtss_f32(_mm_add_ss(b, _mm_movehdup_ps(b)));
}

// Eight lane vectors (one per key, lanes as in dot_f16_lanes) to the eight keys' dot products,
// each reduced in dot_f16_lanes' order: a_l = x_l + x_(l+4), b_0 = a_0 + a_2, b_1 = a_1 + a_3,
// b_0 + b_1. Returns them in key order 0 2 4 6 1 3 5 7 (see kTileOrder).
inline __m256 reduce_8_keys(const __m256* x) {
    __m256 a[4];
    LOKAL_UNROLL for (int i = 0; i < 4; ++i) {
        a[i] = _mm256_add_ps(_mm256_permute2f128_ps(x[2 * i], x[2 * i + 1], 0x20),
                             _mm256_permute2f128_ps(x[2 * i], x[2 * i + 1], 0x31));
    }
    // a[i] = (a_0..a_3 of key 2i | a_0..a_3 of key 2i + 1).
    const __m256 b01 = _mm256_add_ps(_mm256_shuffle_ps(a[0], a[1], _MM_SHUFFLE(1, 0, 1, 0)),
                                     _mm256_shuffle_ps(a[0], a[1], _MM_SHUFFLE(3, 2, 3, 2)));
    const __m256 b23 = _mm256_add_ps(_mm256_shuffle_ps(a[2], a[3], _MM_SHUFFLE(1, 0, 1, 0)),
                                     _mm256_shuffle_ps(a[2], a[3], _MM_SHUFFLE(3, 2, 3, 2)));
    // b01 = (b_0 b_1 of keys 0, 2 | keys 1, 3), b23 likewise for keys 4, 6 | 5, 7.
    return _mm256_hadd_ps(b01, b23);
}
constexpr int kTileOrder[8] = {0, 4, 1, 5, 2, 6, 3, 7};  // key jj's slot in reduce_8_keys

constexpr int kTile = 8;  // keys per tile

// kVecs vectors of one head's F16 accumulator (at acc) through the tile's n value rows.
template <int kVecs, typename Rows>
inline void accumulate_values(float* acc, const Rows& vf, int d, int n, const float* ms,
                              const float* vs) {
    __m256 a[kVecs];
    LOKAL_UNROLL for (int i = 0; i < kVecs; ++i) a[i] = _mm256_load_ps(acc + 8 * i);
    for (int jj = 0; jj < n; ++jj) {
        if (ms[jj] != 1.0f) {
            const __m256 r = _mm256_set1_ps(ms[jj]);
            LOKAL_UNROLL for (int i = 0; i < kVecs; ++i) a[i] = round_f16(_mm256_mul_ps(a[i], r));
        }
        const __m256 w = _mm256_set1_ps(vs[jj]);
        LOKAL_UNROLL for (int i = 0; i < kVecs; ++i) {
            a[i] = round_f16(_mm256_fmadd_ps(_mm256_load_ps(vf[jj] + d + 8 * i), w, a[i]));
        }
    }
    LOKAL_UNROLL for (int i = 0; i < kVecs; ++i) _mm256_store_ps(acc + 8 * i, a[i]);
}

// G query heads over one KV head, keys in tiles of kTile: the tile's key and value rows are
// converted once for all heads, its scores come from one transposed reduction, and each head's
// F16 accumulator stays in registers across the tile. Per head and key the arithmetic is the
// scalar version's, in the same order. A single head may be kMaxHeadDim wide; groups (their
// buffers are G times larger) at most kMaxGroupHeadDim.
template <int G>
void attend_group(const float* const* q, const KvSeqView& cache, int layer,
                  const AttentionParams& p, float* const* out) {
    constexpr int kDim = G == 1 ? kMaxHeadDim : kMaxGroupHeadDim;
    const int hd = p.head_dim;  // a multiple of 8, at most kDim (checked by the callers)
    alignas(32) float qv[G][kDim];
    alignas(32) float acc[G][kDim];  // values always representable in F16
    alignas(32) float kf[kTile][kDim];
    alignas(32) float vf[kTile][kDim];
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
    const float scale = score_scale(p);
    const __m256 scale_v = _mm256_set1_ps(scale);
    auto to_f32 = [hd](const void* row, int offset, float* dst) {
        const uint16_t* src = static_cast<const uint16_t*>(row) + offset;
        for (int d = 0; d < hd; d += 8) {
            _mm256_store_ps(dst + d, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i*)(src + d))));
        }
    };
    for (int j0 = p.first; j0 <= p.last; j0 += kTile) {
        const int n = std::min(kTile, p.last - j0 + 1);
        for (int jj = 0; jj < n; ++jj) {
            to_f32(cache.k_row(layer, j0 + jj), p.kv_offset, kf[jj]);
            to_f32(cache.v_row(layer, j0 + jj), p.kv_offset, vf[jj]);
        }
        // Scores, then each key's softmax factors: ms rescales what came before (a new
        // maximum), vs weighs the key's value row.
        float ms[G][kTile], vs[G][kTile];
        for (int g = 0; g < G; ++g) {
            alignas(32) float s[kTile];
            if (n == kTile) {
                __m256 lanes[kTile];
                LOKAL_UNROLL for (int jj = 0; jj < kTile; ++jj) lanes[jj] = _mm256_setzero_ps();
                for (int d = 0; d < hd; d += 8) {
                    const __m256 qd = _mm256_load_ps(qv[g] + d);
                    LOKAL_UNROLL for (int jj = 0; jj < kTile; ++jj) {
                        lanes[jj] = _mm256_fmadd_ps(qd, _mm256_load_ps(kf[jj] + d), lanes[jj]);
                    }
                }
                alignas(32) float slots[kTile];
                _mm256_store_ps(slots, _mm256_mul_ps(reduce_8_keys(lanes), scale_v));
                LOKAL_UNROLL for (int jj = 0; jj < kTile; ++jj) s[jj] = slots[kTileOrder[jj]];
            } else {
                for (int jj = 0; jj < n; ++jj) {
                    __m256 lanes = _mm256_setzero_ps();
                    for (int d = 0; d < hd; d += 8) {
                        lanes = _mm256_fmadd_ps(_mm256_load_ps(qv[g] + d),
                                                _mm256_load_ps(kf[jj] + d), lanes);
                    }
                    s[jj] = reduce_lanes(lanes) * scale;
                }
            }
            online_softmax_keys(s, n, p.softcap, &m[g], &sum[g], ms[g], vs[g]);
        }
        // acc = f16(f16(acc * ms) + v * vs) key by key (the rescale only on a new maximum).
        // Each vector's update is a chain of three dependent instructions per key, so eight
        // vectors of the head at a time keep enough of them in flight.
        for (int g = 0; g < G; ++g) {
            int d = 0;
            for (; d + 64 <= hd; d += 64) accumulate_values<8>(acc[g] + d, vf, d, n, ms[g], vs[g]);
            for (; d + 32 <= hd; d += 32) accumulate_values<4>(acc[g] + d, vf, d, n, ms[g], vs[g]);
            for (; d < hd; d += 8) accumulate_values<1>(acc[g] + d, vf, d, n, ms[g], vs[g]);
        }
    }
    for (int g = 0; g < G; ++g) {
        const float inv = sum[g] > 0 ? 1.0f / sum[g] : 0.0f;
        for (int d = 0; d < hd; ++d) out[g][d] = acc[g][d] * inv;
    }
}

}  // namespace

void softmax_exp8_avx2(const float* x, float* out) {
    _mm256_storeu_ps(out, softmax_exp8(_mm256_loadu_ps(x)));
}

void attend_f16_avx2(const float* q, const KvSeqView& cache, int layer, const AttentionParams& p,
                     float* out) {
    attend_group<1>(&q, cache, layer, p, &out);
}

bool attend_f16_avx2_group(const float* const* q, int n_heads, const KvSeqView& cache, int layer,
                           const AttentionParams& p, float* const* out) {
    if (p.head_dim % 8 != 0 || p.head_dim > kMaxGroupHeadDim) return false;
    return with_group_size(n_heads, [&](auto group) {
        attend_group<decltype(group)::value>(q, cache, layer, p, out);
    });
}

// The AVX2 table's group kernel for an F16 cache: heads together where the shape allows, else one
// by one (the scalar reference for head sizes that are not a multiple of 8).
void attend_f16_heads_avx2(const float* const* q, int n_heads, const KvSeqView& cache, int layer,
                           const AttentionParams& p, float* const* out) {
    if (attend_f16_avx2_group(q, n_heads, cache, layer, p, out)) return;
    for (int g = 0; g < n_heads; ++g) {
        if (p.head_dim % 8 == 0) {
            attend_f16_avx2(q[g], cache, layer, p, out[g]);
        } else {
            attend_f16_scalar(q[g], cache, layer, p, out[g]);
        }
    }
}

}  // namespace lokal::kernels::detail
