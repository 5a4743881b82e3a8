// AVX2 attend_tiled: the scalar reference's arithmetic, element for element, with the two
// products of a key tile done in register blocks of 4 rows x 16 keys (scores) and 4 rows x 16
// head elements (values). Each accumulator still runs through its sums in the reference's order;
// so do the rows' sums of weights, eight rows at a time (one lane each).
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

// s[r][k0..k0+8*kVecs) = (q_r . key k) * scale, the dot over d in order.
template <int kRows, int kVecs>
inline void score_block(const QueryRow* rows, const float* kt, int hd, int k0, float scale,
                        float* s) {
    __m256 acc[kRows][kVecs];
    LOKAL_UNROLL for (int r = 0; r < kRows; ++r) {
        LOKAL_UNROLL for (int v = 0; v < kVecs; ++v) acc[r][v] = _mm256_setzero_ps();
    }
    const float* col = kt + k0;
    for (int d = 0; d < hd; ++d, col += kTiledKeys) {
        __m256 k[kVecs];
        LOKAL_UNROLL for (int v = 0; v < kVecs; ++v) k[v] = _mm256_loadu_ps(col + 8 * v);
        LOKAL_UNROLL for (int r = 0; r < kRows; ++r) {
            const __m256 q = _mm256_broadcast_ss(rows[r].q + d);
            LOKAL_UNROLL for (int v = 0; v < kVecs; ++v) {
                acc[r][v] = _mm256_fmadd_ps(q, k[v], acc[r][v]);
            }
        }
    }
    const __m256 sc = _mm256_set1_ps(scale);
    LOKAL_UNROLL for (int r = 0; r < kRows; ++r) {
        LOKAL_UNROLL for (int v = 0; v < kVecs; ++v) {
            _mm256_storeu_ps(s + (size_t)r * kTiledKeys + k0 + 8 * v, _mm256_mul_ps(acc[r][v], sc));
        }
    }
}

template <int kRows>
void scores(const QueryRow* rows, const float* kt, int hd, int nk, float scale, float* s) {
    int k0 = 0;
    for (; k0 + 16 <= nk; k0 += 16) score_block<kRows, 2>(rows, kt, hd, k0, scale, s);
    for (; k0 < nk; k0 += 8) score_block<kRows, 1>(rows, kt, hd, k0, scale, s);
}

// o[r][d0..d0+8*kVecs) += sum over keys k in order of w[r][k] * v[k][...].
template <int kRows, int kVecs>
inline void value_block(const float* w, const float* v, int hd, int nk, int d0, float* o) {
    __m256 acc[kRows][kVecs];
    LOKAL_UNROLL for (int r = 0; r < kRows; ++r) {
        LOKAL_UNROLL for (int i = 0; i < kVecs; ++i) {
            acc[r][i] = _mm256_loadu_ps(o + (size_t)r * hd + d0 + 8 * i);
        }
    }
    const float* vrow = v + d0;
    for (int k = 0; k < nk; ++k, vrow += hd) {
        __m256 x[kVecs];
        LOKAL_UNROLL for (int i = 0; i < kVecs; ++i) x[i] = _mm256_loadu_ps(vrow + 8 * i);
        LOKAL_UNROLL for (int r = 0; r < kRows; ++r) {
            const __m256 wk = _mm256_broadcast_ss(w + (size_t)r * kTiledKeys + k);
            LOKAL_UNROLL for (int i = 0; i < kVecs; ++i) {
                acc[r][i] = _mm256_fmadd_ps(wk, x[i], acc[r][i]);
            }
        }
    }
    LOKAL_UNROLL for (int r = 0; r < kRows; ++r) {
        LOKAL_UNROLL for (int i = 0; i < kVecs; ++i) {
            _mm256_storeu_ps(o + (size_t)r * hd + d0 + 8 * i, acc[r][i]);
        }
    }
}

template <int kRows>
void values(const float* w, const float* v, int hd, int nk, float* o) {
    int d0 = 0;
    for (; d0 + 16 <= hd; d0 += 16) value_block<kRows, 2>(w, v, hd, nk, d0, o);
    for (; d0 < hd; d0 += 8) value_block<kRows, 1>(w, v, hd, nk, d0, o);
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

// c[j] = column j of the 8 x 8 block whose rows are r[0..7].
inline void transpose8(const __m256* r, __m256* c) {
    __m256 lo[4], hi[4], u[8];
    for (int i = 0; i < 4; ++i) {
        lo[i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);  // columns 0, 1 | 4, 5 of a row pair
        hi[i] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);  // columns 2, 3 | 6, 7
    }
    for (int h = 0; h < 2; ++h) {  // rows 0..3, then 4..7
        u[4 * h + 0] = _mm256_shuffle_ps(lo[2 * h], lo[2 * h + 1], _MM_SHUFFLE(1, 0, 1, 0));
        u[4 * h + 1] = _mm256_shuffle_ps(lo[2 * h], lo[2 * h + 1], _MM_SHUFFLE(3, 2, 3, 2));
        u[4 * h + 2] = _mm256_shuffle_ps(hi[2 * h], hi[2 * h + 1], _MM_SHUFFLE(1, 0, 1, 0));
        u[4 * h + 3] = _mm256_shuffle_ps(hi[2 * h], hi[2 * h + 1], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int j = 0; j < 4; ++j) {
        c[j] = _mm256_permute2f128_ps(u[j], u[4 + j], 0x20);
        c[4 + j] = _mm256_permute2f128_ps(u[j], u[4 + j], 0x31);
    }
}

// The largest of a row's nk scores; NaNs skipped like tiled_softmax_row's comparisons skip them
// (MAXPS returns its second operand when either is NaN).
float tile_max(const float* s, int nk) {
    __m256 m = _mm256_set1_ps(-INFINITY);
    int k = 0;
    for (; k + 8 <= nk; k += 8) m = _mm256_max_ps(_mm256_loadu_ps(s + k), m);
    alignas(32) float lane[8];
    _mm256_store_ps(lane, m);
    float tmax = -INFINITY;
    for (float x : lane) tmax = x > tmax ? x : tmax;
    for (; k < nk; ++k) tmax = s[k] > tmax ? s[k] : tmax;
    return tmax;
}

// l[r] += the sum of row r's nk weights, added in key order from 0 as tiled_softmax_row does:
// eight rows at once, one lane per row, their weights turned into columns 8 keys at a time,
// instead of one long dependent chain of additions per row.
void add_weight_sums(const float* s, int n, int nk, float* l) {
    const int nk8 = nk / 8 * 8;
    int r0 = 0;
    for (; r0 + 8 <= n; r0 += 8) {
        const float* base = s + (size_t)r0 * kTiledKeys;
        __m256 sum = _mm256_setzero_ps();
        for (int k = 0; k < nk8; k += 8) {
            __m256 rows[8], keys[8];
            for (int i = 0; i < 8; ++i)
                rows[i] = _mm256_loadu_ps(base + (size_t)i * kTiledKeys + k);
            transpose8(rows, keys);
            for (const __m256& key : keys) sum = _mm256_add_ps(sum, key);
        }
        alignas(32) float lane[8];
        _mm256_store_ps(lane, sum);
        for (int i = 0; i < 8; ++i) {
            for (int k = nk8; k < nk; ++k) lane[i] += base[(size_t)i * kTiledKeys + k];
            l[r0 + i] += lane[i];
        }
    }
    for (; r0 < n; ++r0) {
        const float* row = s + (size_t)r0 * kTiledKeys;
        float sum = 0.0f;
        for (int k = 0; k < nk; ++k) sum += row[k];
        l[r0] += sum;
    }
}

// nb Q8_0 blocks as floats, q * d (as the scalar reference: an exact conversion, one rounding).
void dequantize_q8_0_head(const block_q8_0* x, int nb, float* dst) {
    for (int b = 0; b < nb; ++b) {
        const __m256 d = _mm256_set1_ps(_cvtsh_ss(x[b].d));
        for (int i = 0; i < 4; ++i) {
            const __m128i q8 = _mm_loadl_epi64((const __m128i*)(x[b].qs + 8 * i));
            _mm256_storeu_ps(dst + 32 * b + 8 * i,
                             _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q8)), d));
        }
    }
}

}  // namespace

void load_tiled_kv_avx2(const KvSeqView& cache, int layer, int kv_offset, int hd, int j0, int nk,
                        float* kt, float* v) {
    // Keys as rows of krows, eight at a time, then transposed into kt 8 x 8 blocks at a time.
    alignas(32) float krows[8][kTiledMaxHeadDim];
    for (int k = 0; k < nk; ++k) {
        const void* ksrc = cache.k_row(layer, j0 + k);
        const void* vsrc = cache.v_row(layer, j0 + k);
        float* krow = krows[k % 8];
        float* vdst = v + (size_t)k * hd;
        if (cache.type() == KvType::F16) {
            const uint16_t* kh = static_cast<const uint16_t*>(ksrc) + kv_offset;
            const uint16_t* vh = static_cast<const uint16_t*>(vsrc) + kv_offset;
            for (int d = 0; d < hd; d += 8) {
                _mm256_store_ps(krow + d,
                                _mm256_cvtph_ps(_mm_loadu_si128((const __m128i*)(kh + d))));
                _mm256_storeu_ps(vdst + d,
                                 _mm256_cvtph_ps(_mm_loadu_si128((const __m128i*)(vh + d))));
            }
        } else if (cache.type() == KvType::Q8_0) {
            dequantize_q8_0_head(q8_head(ksrc, kv_offset), hd / 32, krow);
            dequantize_q8_0_head(q8_head(vsrc, kv_offset), hd / 32, vdst);
        } else {
            std::copy_n(static_cast<const float*>(ksrc) + kv_offset, hd, krow);
            std::copy_n(static_cast<const float*>(vsrc) + kv_offset, hd, vdst);
        }
        if (k % 8 == 7) {
            const int k0 = k - 7;
            for (int d = 0; d < hd; d += 8) {
                __m256 rows[8], cols[8];
                for (int i = 0; i < 8; ++i) rows[i] = _mm256_load_ps(krows[i] + d);
                transpose8(rows, cols);
                for (int j = 0; j < 8; ++j) {
                    _mm256_storeu_ps(kt + (size_t)(d + j) * kTiledKeys + k0, cols[j]);
                }
            }
        }
    }
    for (int k = nk / 8 * 8; k < nk; ++k) {
        for (int d = 0; d < hd; ++d) kt[(size_t)d * kTiledKeys + k] = krows[k % 8][d];
    }
    // Keys past nk in the last tile: zeros, so the score blocks read defined values.
    if (nk % 8 != 0) {
        const int end = (nk + 7) / 8 * 8;
        for (int d = 0; d < hd; ++d)
            std::fill(kt + (size_t)d * kTiledKeys + nk, kt + (size_t)d * kTiledKeys + end, 0.0f);
    }
}

void attend_tiled_avx2(std::span<const QueryRow> rows, const KvSeqView& cache, int layer,
                       const AttentionParams& p, float* scratch) {
    if (p.head_dim % 8 != 0) {  // the 8-lane steps need whole vectors
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
        const __m256 iv = _mm256_set1_ps(inv);
        for (int d = 0; d < hd; d += 8) {
            _mm256_storeu_ps(rows[r].out + d,
                             _mm256_mul_ps(_mm256_loadu_ps(t.o + (size_t)r * hd + d), iv));
        }
    }
}

}  // namespace lokal::kernels::detail
