// AVX-512 attend_tiled: the AVX2 version's plan with 16-lane registers and larger blocks, 4 rows x
// 64 keys (scores) and 4 rows x 64 head elements (values), so each broadcast feeds four FMAs.
// Every lane is still one accumulator running through its sum in the scalar reference's order;
// partial key tiles and head sizes that are not a multiple of 16 use masked loads and stores.
#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "kernels/cpu/attention_internal.h"
#include "kernels/cpu/attention_tiled.h"
#include "kernels/cpu/exp_poly_avx2.h"

namespace lokal::kernels::detail {
namespace {

#define LOKAL_UNROLL _Pragma("GCC unroll 8")

constexpr int kBlockRows = 4;

// Lanes 0..n-1 of a 16-lane register (n at most 16).
inline __mmask16 first_lanes(int n) {
    return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1);
}

// s[r][k0..k0+16*kVecs) = (q_r . key k) * scale, the dot over d in order; the last register
// covers only the lanes in `tail`.
template <int kRows, int kVecs>
inline void score_block(const QueryRow* rows, const float* kt, int hd, int k0, __mmask16 tail,
                        float scale, float* s) {
    __m512 acc[kRows][kVecs];
    LOKAL_UNROLL for (int r = 0; r < kRows; ++r) {
        LOKAL_UNROLL for (int v = 0; v < kVecs; ++v) acc[r][v] = _mm512_setzero_ps();
    }
    const float* col = kt + k0;
    for (int d = 0; d < hd; ++d, col += kTiledKeys) {
        __m512 k[kVecs];
        LOKAL_UNROLL for (int v = 0; v < kVecs - 1; ++v) k[v] = _mm512_loadu_ps(col + 16 * v);
        k[kVecs - 1] = _mm512_maskz_loadu_ps(tail, col + 16 * (kVecs - 1));
        LOKAL_UNROLL for (int r = 0; r < kRows; ++r) {
            const __m512 q = _mm512_set1_ps(rows[r].q[d]);
            LOKAL_UNROLL for (int v = 0; v < kVecs; ++v) {
                acc[r][v] = _mm512_fmadd_ps(q, k[v], acc[r][v]);
            }
        }
    }
    const __m512 sc = _mm512_set1_ps(scale);
    LOKAL_UNROLL for (int r = 0; r < kRows; ++r) {
        float* dst = s + (size_t)r * kTiledKeys + k0;
        LOKAL_UNROLL for (int v = 0; v < kVecs - 1; ++v) {
            _mm512_storeu_ps(dst + 16 * v, _mm512_mul_ps(acc[r][v], sc));
        }
        _mm512_mask_storeu_ps(dst + 16 * (kVecs - 1), tail, _mm512_mul_ps(acc[r][kVecs - 1], sc));
    }
}

template <int kRows>
void scores(const QueryRow* rows, const float* kt, int hd, int nk, float scale, float* s) {
    if (nk == kTiledKeys) {
        score_block<kRows, kTiledKeys / 16>(rows, kt, hd, 0, first_lanes(16), scale, s);
        return;
    }
    for (int k0 = 0; k0 < nk; k0 += 16) {
        score_block<kRows, 1>(rows, kt, hd, k0, first_lanes(nk - k0), scale, s);
    }
}

// o[r][d0..d0+16*kVecs) += sum over keys k in order of w[r][k] * v[k][...]; the last register
// covers only the lanes in `tail`.
template <int kRows, int kVecs>
inline void value_block(const float* w, const float* v, int hd, int nk, int d0, __mmask16 tail,
                        float* o) {
    __m512 acc[kRows][kVecs];
    LOKAL_UNROLL for (int r = 0; r < kRows; ++r) {
        const float* src = o + (size_t)r * hd + d0;
        LOKAL_UNROLL for (int i = 0; i < kVecs - 1; ++i) acc[r][i] = _mm512_loadu_ps(src + 16 * i);
        acc[r][kVecs - 1] = _mm512_maskz_loadu_ps(tail, src + 16 * (kVecs - 1));
    }
    const float* vrow = v + d0;
    for (int k = 0; k < nk; ++k, vrow += hd) {
        __m512 x[kVecs];
        LOKAL_UNROLL for (int i = 0; i < kVecs - 1; ++i) x[i] = _mm512_loadu_ps(vrow + 16 * i);
        x[kVecs - 1] = _mm512_maskz_loadu_ps(tail, vrow + 16 * (kVecs - 1));
        LOKAL_UNROLL for (int r = 0; r < kRows; ++r) {
            const __m512 wk = _mm512_set1_ps(w[(size_t)r * kTiledKeys + k]);
            LOKAL_UNROLL for (int i = 0; i < kVecs; ++i) {
                acc[r][i] = _mm512_fmadd_ps(wk, x[i], acc[r][i]);
            }
        }
    }
    LOKAL_UNROLL for (int r = 0; r < kRows; ++r) {
        float* dst = o + (size_t)r * hd + d0;
        LOKAL_UNROLL for (int i = 0; i < kVecs - 1; ++i) _mm512_storeu_ps(dst + 16 * i, acc[r][i]);
        _mm512_mask_storeu_ps(dst + 16 * (kVecs - 1), tail, acc[r][kVecs - 1]);
    }
}

template <int kRows>
void values(const float* w, const float* v, int hd, int nk, float* o) {
    int d0 = 0;
    for (; d0 + 64 <= hd; d0 += 64) value_block<kRows, 4>(w, v, hd, nk, d0, first_lanes(16), o);
    for (; d0 < hd; d0 += 16) value_block<kRows, 1>(w, v, hd, nk, d0, first_lanes(hd - d0), o);
}

template <typename Fn>
void by_row_blocks(int n, Fn&& fn) {
    int r = 0;
    for (; r + kBlockRows <= n; r += kBlockRows) fn(r, std::integral_constant<int, kBlockRows>{});
    switch (n - r) {
        case 3:
            fn(r, std::integral_constant<int, 3>{});
            break;
        case 2:
            fn(r, std::integral_constant<int, 2>{});
            break;
        case 1:
            fn(r, std::integral_constant<int, 1>{});
            break;
        default:
            break;
    }
}

// The largest of a row's nk scores; -inf skipped like tiled_softmax_row's comparisons skip NaNs
// (MAXPS returns its second operand when either is NaN).
float tile_max(const float* s, int nk) {
    __m512 m = _mm512_set1_ps(-INFINITY);
    for (int k = 0; k < nk; k += 16) {
        const __mmask16 lanes = first_lanes(nk - k);
        m = _mm512_mask_max_ps(m, lanes, _mm512_maskz_loadu_ps(lanes, s + k), m);
    }
    // Through memory: GCC 12's 512-bit extract intrinsics trip -Wmaybe-uninitialized.
    alignas(64) float lane[16];
    _mm512_store_ps(lane, m);
    float tmax = lane[0];
    for (int i = 1; i < 16; ++i) tmax = lane[i] > tmax ? lane[i] : tmax;
    return tmax;
}

// l[r] += the sum of row r's nk weights, added in key order from 0 as tiled_softmax_row does,
// for 16 rows at once (one lane per row) instead of one long dependent chain per row.
void add_weight_sums(const float* s, int n, int nk, float* l) {
    const __m512i row_starts =
        _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                           _mm512_set1_epi32(kTiledKeys));
    for (int r0 = 0; r0 < n; r0 += 16) {
        const __mmask16 rows = first_lanes(n - r0);
        const float* base = s + (size_t)r0 * kTiledKeys;
        __m512 sum = _mm512_setzero_ps();
        for (int k = 0; k < nk; ++k) {
            sum = _mm512_add_ps(
                sum, _mm512_mask_i32gather_ps(_mm512_setzero_ps(), rows, row_starts, base + k, 4));
        }
        _mm512_mask_storeu_ps(l + r0, rows,
                              _mm512_add_ps(_mm512_maskz_loadu_ps(rows, l + r0), sum));
    }
}

}  // namespace

void attend_tiled_avx512(std::span<const QueryRow> rows, const KvSeqView& cache, int layer,
                         const AttentionParams& p, float* scratch) {
    if (p.head_dim % 8 != 0) {  // the cache loads step by 8
        attend_tiled_scalar(rows, cache, layer, p, scratch);
        return;
    }
    const int hd = p.head_dim, n = (int)rows.size();
    int lo = 0, hi = 0;
    const TiledScratch t = tiled_start(scratch, rows, hd, &lo, &hi);
    const float scale = score_scale(p);
    for (int j0 = lo; j0 <= hi; j0 += kTiledKeys) {
        const int nk = std::min(kTiledKeys, hi - j0 + 1);
        load_tiled_kv_avx2(cache, layer, p.kv_offset, hd, j0, nk, t.kt, t.v);
        by_row_blocks(n, [&](int r0, auto block) {
            scores<decltype(block)::value>(rows.data() + r0, t.kt, hd, nk, scale,
                                           t.s + (size_t)r0 * kTiledKeys);
        });
        for (int r = 0; r < n; ++r) {
            float* s = t.s + (size_t)r * kTiledKeys;
            cap_and_mask_scores(s, nk, j0, rows[r], p.softcap);
            tiled_softmax_weights(s, nk, tile_max(s, nk), &t.m[r], &t.l[r], t.o + (size_t)r * hd,
                                  hd, softmax_weights8);
        }
        add_weight_sums(t.s, n, nk, t.l);
        by_row_blocks(n, [&](int r0, auto block) {
            values<decltype(block)::value>(t.s + (size_t)r0 * kTiledKeys, t.v, hd, nk,
                                           t.o + (size_t)r0 * hd);
        });
    }
    for (int r = 0; r < n; ++r) {
        const float inv = t.l[r] > 0 ? 1.0f / t.l[r] : 0.0f;
        const __m512 iv = _mm512_set1_ps(inv);
        for (int d = 0; d < hd; d += 16) {
            const __mmask16 m = first_lanes(hd - d);
            _mm512_mask_storeu_ps(
                rows[r].out + d, m,
                _mm512_mul_ps(_mm512_maskz_loadu_ps(m, t.o + (size_t)r * hd + d), iv));
        }
    }
}

}  // namespace lokal::kernels::detail
