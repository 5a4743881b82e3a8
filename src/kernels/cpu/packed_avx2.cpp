// AVX2 kernels for the packed 8-row groups (layouts in packed.h). Each 32-byte weight load holds
// 4 bytes (8 nibbles for 4-bit types) of each of 8 rows; 4 activation bytes broadcast to every
// lane meet it in one maddubs, so lane r accumulates row r and a group needs no horizontal sum.
// Up to four activation rows share every weight load and unpack.
//
// The integer sums are exact and the float steps are the scalar reference's (packed.cpp), so
// results are bit for bit the reference's.
#include <cstddef>
#include <cstring>
#include <type_traits>

#include "kernels/cpu/kernel_rows.h"
#include "kernels/cpu/packed.h"
#include "kernels/cpu/packed_avx2_common.h"
#include "kernels/cpu/packed_layout.h"
#include "kernels/cpu/packed_tiles.h"
#include "kernels/cpu/simd_avx2.h"
#include "tensor/quant_blocks.h"

namespace lokal::kernels {
namespace {

using namespace avx2;  // NOLINT(google-build-using-namespace)
using packed_tiles::ActRows;
using packed_tiles::gemm;

inline __m256 load_bf16x8(const uint16_t* p) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

// F16 and BF16: each load is one column of a group's 8 rows, widened once for kRn activation
// rows. kG groups side by side give kG * kRn independent fused multiply-add chains (one per row
// and activation row, over the columns in order, as the reference).
template <__m256 (*kLoad)(const uint16_t*), int kG, int kRn>
void tile_16bit(int64_t nb, const block_16bit_x8* const* w, const float* const* a, float* y,
                size_t ldy) {
    __m256 acc[kG][kRn];
    LOKAL_UNROLL
    for (int g = 0; g < kG; ++g) {
        LOKAL_UNROLL
        for (int j = 0; j < kRn; ++j) acc[g][j] = _mm256_setzero_ps();
    }
    for (int64_t ib = 0; ib < nb; ++ib) {
        LOKAL_UNROLL
        for (int g = 0; g < kG; ++g) prefetch_ahead<kRn>(w[g] + ib);
#pragma GCC unroll 2
        for (int c = 0; c < 8; ++c) {
            __m256 wc[kG];
            LOKAL_UNROLL
            for (int g = 0; g < kG; ++g) wc[g] = kLoad(w[g][ib].v + 8 * c);
            LOKAL_UNROLL
            for (int j = 0; j < kRn; ++j) {
                const __m256 x = _mm256_broadcast_ss(a[j] + 8 * ib + c);
                LOKAL_UNROLL
                for (int g = 0; g < kG; ++g) acc[g][j] = _mm256_fmadd_ps(wc[g], x, acc[g][j]);
            }
        }
    }
    LOKAL_UNROLL
    for (int g = 0; g < kG; ++g) {
        LOKAL_UNROLL
        for (int j = 0; j < kRn; ++j) _mm256_storeu_ps(y + j * ldy + 8 * g, acc[g][j]);
    }
}

// Pairs of groups against six activation rows at a time (twelve accumulators), then the
// remaining rows one by one; an odd last group alone.
template <__m256 (*kLoad)(const uint16_t*), int kG>
void groups_16bit(int64_t nb, const uint8_t* w, size_t group_stride, const float* act,
                  size_t act_stride, int n_act, float* y, size_t ldy) {
    constexpr int kTile = 6;
    const block_16bit_x8* wg[kG];
    for (int g = 0; g < kG; ++g) {
        wg[g] = reinterpret_cast<const block_16bit_x8*>(w + g * group_stride);
    }
    const auto row = [&](int b) { return act + b * (act_stride / sizeof(float)); };
    int b = 0;
    for (; b + kTile <= n_act; b += kTile) {
        const float* a[kTile];
        for (int j = 0; j < kTile; ++j) a[j] = row(b + j);
        tile_16bit<kLoad, kG, kTile>(nb, wg, a, y + b * ldy, ldy);
    }
    for (; b < n_act; ++b) {
        const float* a[1] = {row(b)};
        tile_16bit<kLoad, kG, 1>(nb, wg, a, y + b * ldy, ldy);
    }
}

template <__m256 (*kLoad)(const uint16_t*)>
void gemm_16bit(int64_t cols, const uint8_t* w, size_t group_stride, int n_groups,
                const uint8_t* /*act*/, size_t /*act_stride*/, const uint8_t* info,
                size_t info_stride, int n_act, float* y, size_t ldy) {
    const int64_t nb = cols / 8;
    const auto* a = reinterpret_cast<const float*>(info);  // the activations widened
    int g = 0;
    for (; g + 2 <= n_groups; g += 2) {
        groups_16bit<kLoad, 2>(nb, w + g * group_stride, group_stride, a, info_stride, n_act,
                               y + 8 * g, ldy);
    }
    if (g < n_groups) {
        groups_16bit<kLoad, 1>(nb, w + g * group_stride, group_stride, a, info_stride, n_act,
                               y + 8 * g, ldy);
    }
}

// The Q8_0 activation rows of a tile against 32-column weight blocks (Q4_0, Q5_0, Q8_0): each
// block's exact integer sums become acc = fma(d_w * d_act, (float)isum, acc), row by row.
template <int kRn>
struct Q8_0Acts {
    const block_q8_0* a[kRn];
    const ActInfoQ8_0* ai[kRn];
    __m256 acc[kRn];

    explicit Q8_0Acts(const ActRows& ar) {
        LOKAL_UNROLL
        for (int j = 0; j < kRn; ++j) {
            a[j] = ar.row<block_q8_0>(j);
            ai[j] = ar.info_row<ActInfoQ8_0>(j);
            acc[j] = _mm256_setzero_ps();
        }
    }
    void add_block(int64_t ib, __m256 d_w, const __m256i* isum) {
        LOKAL_UNROLL
        for (int j = 0; j < kRn; ++j) {
            const __m256 d = _mm256_mul_ps(d_w, _mm256_set1_ps(ai[j][ib].d));
            acc[j] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(isum[j]), acc[j]);
        }
    }
    void store(float* y, size_t ldy) const {
        LOKAL_UNROLL
        for (int j = 0; j < kRn; ++j) _mm256_storeu_ps(y + j * ldy, acc[j]);
    }
};

template <int kRn>
void q4_0_tile(int64_t nb, const block_q4_0x8* w, const ActRows& ar, float* y, size_t ldy) {
    const __m256i ones = _mm256_set1_epi16(1);
    Q8_0Acts<kRn> acts(ar);
    const auto& a = acts.a;
    const auto& ai = acts.ai;
    for (int64_t ib = 0; ib < nb; ++ib) {
        prefetch_ahead<kRn>(w + ib);
        const int8_t* q[kRn];
        LOKAL_UNROLL
        for (int j = 0; j < kRn; ++j) q[j] = a[j][ib].qs;
        __m256i s[kRn];
        nibble_block_sums<kRn>(w[ib].qs, q, s);
        __m256i isum[kRn];
        LOKAL_UNROLL
        for (int j = 0; j < kRn; ++j) {
            isum[j] = _mm256_sub_epi32(_mm256_madd_epi16(s[j], ones),
                                       _mm256_set1_epi32(ai[j][ib].sum_x8));
        }
        acts.add_block(ib, load_f16x8(w[ib].d), isum);
    }
    acts.store(y, ldy);
}

// quants(ib, L, lo, hi) gives q5_32_quants<L> of block ib.
template <int kRn, typename Quants>
void q5_0_tile_with(int64_t nb, const block_q5_0x8* w, const Quants& quants, const ActRows& ar,
                    float* y, size_t ldy) {
    const __m256i ones = _mm256_set1_epi16(1);
    Q8_0Acts<kRn> acts(ar);
    const auto& a = acts.a;
    const auto& ai = acts.ai;
    for (int64_t ib = 0; ib < nb; ++ib) {
        prefetch_ahead<kRn>(w + ib);
        __m256i isum[kRn];
        LOKAL_UNROLL
        for (int j = 0; j < kRn; ++j) isum[j] = _mm256_set1_epi32(-2 * ai[j][ib].sum_x8);
        // Quants reach 31, so two loads' products (at most 4 * 31 * 127 per 16-bit lane) are
        // widened to 32 bits before the next two are added.
        const auto two_loads = [&](auto h0) {
            constexpr int h = decltype(h0)::value;
            __m256i s[kRn];
            LOKAL_UNROLL
            for (int t = 0; t < 2; ++t) {
                __m256i lo, hi;
                if (t == 0) quants(ib, std::integral_constant<int, h>{}, lo, hi);
                if (t == 1) quants(ib, std::integral_constant<int, h + 1>{}, lo, hi);
                LOKAL_UNROLL
                for (int j = 0; j < kRn; ++j) {
                    const int8_t* q = a[j][ib].qs + 4 * (h + t);
                    const __m256i p = _mm256_add_epi16(_mm256_maddubs_epi16(lo, bcast4(q)),
                                                       _mm256_maddubs_epi16(hi, bcast4(q + 16)));
                    s[j] = t == 0 ? p : _mm256_add_epi16(s[j], p);
                }
            }
            LOKAL_UNROLL
            for (int j = 0; j < kRn; ++j) {
                isum[j] = _mm256_add_epi32(isum[j], _mm256_madd_epi16(s[j], ones));
            }
        };
        two_loads(std::integral_constant<int, 0>{});
        two_loads(std::integral_constant<int, 2>{});
        acts.add_block(ib, load_f16x8(w[ib].d), isum);
    }
    acts.store(y, ldy);
}

template <int kRn>
void q5_0_tile(int64_t nb, const block_q5_0x8* w, const ActRows& ar, float* y, size_t ldy) {
    q5_0_tile_with<kRn>(nb, w, Q5_32FromBlocks<block_q5_0x8>{w}, ar, y, ldy);
}

template <int kRn>
void q5_0_tile_decoded(int64_t nb, const block_q5_0x8* w, const Vec256* decoded, const ActRows& ar,
                       float* y, size_t ldy) {
    q5_0_tile_with<kRn>(nb, w, Q5_32FromDecoded{decoded}, ar, y, ldy);
}

template <int kRn>
void q8_0_tile(int64_t nb, const block_q8_0x8* w, const ActRows& ar, float* y, size_t ldy) {
    const __m256i ones = _mm256_set1_epi16(1);
    Q8_0Acts<kRn> acts(ar);
    const auto& a = acts.a;
    for (int64_t ib = 0; ib < nb; ++ib) {
        prefetch_ahead<kRn>(w + ib);
        __m256i s[kRn];
        LOKAL_UNROLL
        for (int j = 0; j < kRn; ++j) s[j] = _mm256_setzero_si256();
        over_weight_vectors<kRn, 8>([&](int h) {
            const __m256i v = load256(w[ib].qs + 32 * h);
            const __m256i av = _mm256_sign_epi8(v, v);
            LOKAL_UNROLL
            for (int j = 0; j < kRn; ++j) {
                const __m256i sy = _mm256_sign_epi8(bcast4(a[j][ib].qs + 4 * h), v);
                s[j] =
                    _mm256_add_epi32(s[j], _mm256_madd_epi16(_mm256_maddubs_epi16(av, sy), ones));
            }
        });
        acts.add_block(ib, load_f16x8(w[ib].d), s);
    }
    acts.store(y, ldy);
}

template <int kRn>
void q4_K_tile(int64_t nb, const block_q4_Kx8* w, const ActRows& ar, float* y, size_t ldy) {
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    const __m128i pick_even = pick_pair_half(false);
    const __m128i pick_odd = pick_pair_half(true);
    const block_q8_K* a[kRn];
    const ActInfoQ8_K* ai[kRn];
    __m256 acc[kRn];
    LOKAL_UNROLL
    for (int j = 0; j < kRn; ++j) {
        a[j] = ar.row<block_q8_K>(j);
        ai[j] = ar.info_row<ActInfoQ8_K>(j);
        acc[j] = _mm256_setzero_ps();
    }
    for (int64_t ib = 0; ib < nb; ++ib) {
        prefetch_ahead<kRn>(w + ib);
        const block_q4_Kx8& p = w[ib];
        __m256i isum[kRn];
        LOKAL_UNROLL
        for (int j = 0; j < kRn; ++j) isum[j] = _mm256_setzero_si256();
        // Per sub-block pair k, the low nibbles (sub-block 2k) and then the high ones (2k + 1):
        // one sub-block's 16-bit sums per activation row are live at a time, so the
        // accumulators fit in registers.
        LOKAL_UNROLL
        for (int k = 0; k < 4; ++k) {
            const __m128i pairs = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p.scales[k]));
            LOKAL_UNROLL
            for (int half = 0; half < 2; ++half) {
                __m256i s[kRn];
                LOKAL_UNROLL
                for (int j = 0; j < kRn; ++j) s[j] = _mm256_setzero_si256();
                const auto step = [&](int h) {
                    const __m256i v = load256(p.qs + 256 * k + 32 * h);
                    const __m256i nib =
                        _mm256_and_si256(half == 0 ? v : _mm256_srli_epi16(v, 4), m4);
                    LOKAL_UNROLL
                    for (int j = 0; j < kRn; ++j) {
                        const int8_t* q = a[j][ib].qs + 64 * k + 32 * half + 4 * h;
                        s[j] = _mm256_add_epi16(s[j], _mm256_maddubs_epi16(nib, bcast4(q)));
                    }
                };
                over_weight_vectors<kRn, 8>(step);
                const __m256i sc =
                    _mm256_cvtepu8_epi16(_mm_shuffle_epi8(pairs, half == 0 ? pick_even : pick_odd));
                LOKAL_UNROLL
                for (int j = 0; j < kRn; ++j) {
                    isum[j] = _mm256_add_epi32(isum[j], _mm256_madd_epi16(s[j], sc));
                }
            }
        }
        __m256i imin[kRn];
        LOKAL_UNROLL
        for (int j = 0; j < kRn; ++j) imin[j] = _mm256_setzero_si256();
        LOKAL_UNROLL
        for (int k = 0; k < 4; ++k) {
            const __m256i m16 =
                _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p.mins[k])));
            LOKAL_UNROLL
            for (int j = 0; j < kRn; ++j) {
                int32_t pair;
                std::memcpy(&pair, ai[j][ib].sub_sums + 2 * k, 4);
                const __m256i t = _mm256_madd_epi16(m16, _mm256_set1_epi32(pair));
                imin[j] = _mm256_add_epi32(imin[j], t);
            }
        }
        const __m256 dw = load_f16x8(p.d);
        const __m256 dmw = load_f16x8(p.dmin);
        LOKAL_UNROLL
        for (int j = 0; j < kRn; ++j) {
            const __m256 da = _mm256_set1_ps(a[j][ib].d);
            acc[j] = _mm256_fmadd_ps(_mm256_mul_ps(dw, da), _mm256_cvtepi32_ps(isum[j]), acc[j]);
            acc[j] = _mm256_fnmadd_ps(_mm256_mul_ps(dmw, da), _mm256_cvtepi32_ps(imin[j]), acc[j]);
        }
    }
    LOKAL_UNROLL
    for (int j = 0; j < kRn; ++j) _mm256_storeu_ps(y + j * ldy, acc[j]);
}

// Q6_K's quants 0..63 of elements 128 c2 + 32 i + 4 h + j, j < 4, of every row, from the three
// bytes per four quants of packed_layout.h.
inline __m256i q6_K_quants(const block_q6_Kx8& p, int c2, int i, int h) {
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    const __m256i m2 = _mm256_set1_epi8(0x30);
    const __m256i m6 = _mm256_set1_epi8(0x3F);
    const uint8_t* at = p.qs + 768 * c2 + 96 * h;
    if (i == 0) return _mm256_and_si256(load256(at), m6);
    if (i == 1) {
        return _mm256_or_si256(_mm256_and_si256(load256(at + 64), m4),
                               _mm256_and_si256(_mm256_srli_epi16(load256(at), 2), m2));
    }
    if (i == 2) return _mm256_and_si256(load256(at + 32), m6);
    return _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(load256(at + 64), 4), m4),
                           _mm256_and_si256(_mm256_srli_epi16(load256(at + 32), 2), m2));
}

void decode_q6_K(const block_q6_Kx8& p, Vec256* out) {
    decode_in_order<2, 4>(out, [&](int c2, int i, int h) { return q6_K_quants(p, c2, i, h); });
}

// quants(ib, c2, i, h) gives q6_K_quants of super-block ib.
template <int kRn, typename Quants>
void q6_K_tile_with(int64_t nb, const block_q6_Kx8* w, const Quants& quants, const ActRows& ar,
                    float* y, size_t ldy) {
    const __m128i pick_even = pick_pair_half(false);
    const __m128i pick_odd = pick_pair_half(true);
    const block_q8_K* a[kRn];
    __m256 acc[kRn];
    LOKAL_UNROLL
    for (int j = 0; j < kRn; ++j) {
        a[j] = ar.row<block_q8_K>(j);
        acc[j] = _mm256_setzero_ps();
    }
    for (int64_t ib = 0; ib < nb; ++ib) {
        prefetch_ahead<kRn>(w + ib);
        const block_q6_Kx8& p = w[ib];
        __m256i isum[kRn];
        LOKAL_UNROLL
        for (int j = 0; j < kRn; ++j) isum[j] = _mm256_setzero_si256();
        // Sub-block pair i of each 128-element half c2, first the quants of its first sub-block
        // (h < 4), then of its second: one scale vector and two quant vectors are live at a
        // time, so the four-row tile's accumulators stay in registers.
        for (int c2 = 0; c2 < 2; ++c2) {
            for (int hh = 0; hh < 2; ++hh) {
                LOKAL_UNROLL
                for (int i = 0; i < 4; ++i) {
                    const __m128i pairs = _mm_loadu_si128(
                        reinterpret_cast<const __m128i*>(p.scale_pairs[4 * c2 + i]));
                    const __m256i sc =
                        _mm256_cvtepi8_epi16(_mm_shuffle_epi8(pairs, hh ? pick_odd : pick_even));
                    LOKAL_UNROLL
                    for (int h = 4 * hh; h < 4 * hh + 4; h += 2) {
                        const __m256i v0 = quants(ib, c2, i, h);
                        const __m256i v1 = quants(ib, c2, i, h + 1);
                        LOKAL_UNROLL
                        for (int j = 0; j < kRn; ++j) {
                            const int8_t* q = a[j][ib].qs + 128 * c2 + 32 * i + 4 * h;
                            // Two products of at most 2 * 63 * 128 each still fit in int16.
                            const __m256i t =
                                _mm256_add_epi16(_mm256_maddubs_epi16(v0, bcast4(q)),
                                                 _mm256_maddubs_epi16(v1, bcast4(q + 4)));
                            isum[j] = _mm256_add_epi32(isum[j], _mm256_madd_epi16(t, sc));
                        }
                    }
                }
            }
        }
        // The quants are stored as q + 32: subtract 32 * sum over sub-blocks of sc * sum(act).
        __m256i corr[kRn];
        LOKAL_UNROLL
        for (int j = 0; j < kRn; ++j) corr[j] = _mm256_setzero_si256();
        LOKAL_UNROLL
        for (int k = 0; k < 8; ++k) {
            const __m256i sc16 = _mm256_cvtepi8_epi16(
                _mm_loadu_si128(reinterpret_cast<const __m128i*>(p.scale_pairs[k])));
            LOKAL_UNROLL
            for (int j = 0; j < kRn; ++j) {
                int32_t pair;
                std::memcpy(&pair, a[j][ib].bsums + 2 * k, 4);
                corr[j] =
                    _mm256_add_epi32(corr[j], _mm256_madd_epi16(sc16, _mm256_set1_epi32(pair)));
            }
        }
        const __m256 dw = load_f16x8(p.d);
        LOKAL_UNROLL
        for (int j = 0; j < kRn; ++j) {
            const __m256i itot = _mm256_sub_epi32(isum[j], _mm256_slli_epi32(corr[j], 5));
            const __m256 d = _mm256_mul_ps(dw, _mm256_set1_ps(a[j][ib].d));
            acc[j] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(itot), acc[j]);
        }
    }
    LOKAL_UNROLL
    for (int j = 0; j < kRn; ++j) _mm256_storeu_ps(y + j * ldy, acc[j]);
}

template <int kRn>
void q6_K_tile(int64_t nb, const block_q6_Kx8* w, const ActRows& ar, float* y, size_t ldy) {
    const auto quants = [&](int64_t ib, int c2, int i, int h) {
        return q6_K_quants(w[ib], c2, i, h);
    };
    q6_K_tile_with<kRn>(nb, w, quants, ar, y, ldy);
}

template <int kRn>
void q6_K_tile_decoded(int64_t nb, const block_q6_Kx8* w, const Vec256* decoded, const ActRows& ar,
                       float* y, size_t ldy) {
    q6_K_tile_with<kRn>(nb, w, KDecoded<4>{decoded}, ar, y, ldy);
}

}  // namespace

void avx2_widen_f16(const uint16_t* src, float* dst, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, load_f16x8(src + i));
    for (; i < n; ++i) dst[i] = _cvtsh_ss(src[i]);
}

// The kernels of the AVX2 table (vec_dot_avx2.cpp), one per packed layout.
void avx2_packed_f16(int64_t cols, const uint8_t* w, size_t group_stride, int n_groups,
                     const uint8_t* act, size_t act_stride, const uint8_t* info, size_t info_stride,
                     int n_act, float* y, size_t ldy) {
    gemm_16bit<load_f16x8>(cols, w, group_stride, n_groups, act, act_stride, info, info_stride,
                           n_act, y, ldy);
}

void avx2_packed_bf16(int64_t cols, const uint8_t* w, size_t group_stride, int n_groups,
                      const uint8_t* act, size_t act_stride, const uint8_t* info,
                      size_t info_stride, int n_act, float* y, size_t ldy) {
    gemm_16bit<load_bf16x8>(cols, w, group_stride, n_groups, act, act_stride, info, info_stride,
                            n_act, y, ldy);
}

void avx2_packed_q4_0(int64_t cols, const uint8_t* w, size_t group_stride, int n_groups,
                      const uint8_t* act, size_t act_stride, const uint8_t* info,
                      size_t info_stride, int n_act, float* y, size_t ldy) {
    gemm<block_q4_0x8, 4, q4_0_tile<4>, q4_0_tile<1>, kQK32>(
        cols, w, group_stride, n_groups, act, act_stride, info, info_stride, n_act, y, ldy);
}

void avx2_packed_q5_0(int64_t cols, const uint8_t* w, size_t group_stride, int n_groups,
                      const uint8_t* act, size_t act_stride, const uint8_t* info,
                      size_t info_stride, int n_act, float* y, size_t ldy) {
    packed_tiles::gemm_decoded<block_q5_0x8, Vec256, kQ5_32DecodedVectors,
                               decode_q5_32<block_q5_0x8>, 4, q5_0_tile_decoded<4>, q5_0_tile<4>,
                               q5_0_tile<1>, kQK32>(cols, w, group_stride, n_groups, act,
                                                    act_stride, info, info_stride, n_act, y, ldy);
}

void avx2_packed_q8_0(int64_t cols, const uint8_t* w, size_t group_stride, int n_groups,
                      const uint8_t* act, size_t act_stride, const uint8_t* info,
                      size_t info_stride, int n_act, float* y, size_t ldy) {
    gemm<block_q8_0x8, 4, q8_0_tile<4>, q8_0_tile<1>, kQK32>(
        cols, w, group_stride, n_groups, act, act_stride, info, info_stride, n_act, y, ldy);
}

void avx2_packed_q4_K(int64_t cols, const uint8_t* w, size_t group_stride, int n_groups,
                      const uint8_t* act, size_t act_stride, const uint8_t* info,
                      size_t info_stride, int n_act, float* y, size_t ldy) {
    gemm<block_q4_Kx8, 4, q4_K_tile<4>, q4_K_tile<1>, kQKK>(
        cols, w, group_stride, n_groups, act, act_stride, info, info_stride, n_act, y, ldy);
}

void avx2_packed_q6_K(int64_t cols, const uint8_t* w, size_t group_stride, int n_groups,
                      const uint8_t* act, size_t act_stride, const uint8_t* info,
                      size_t info_stride, int n_act, float* y, size_t ldy) {
    packed_tiles::gemm_decoded<block_q6_Kx8, Vec256, kKDecodedVectors, decode_q6_K, 4,
                               q6_K_tile_decoded<4>, q6_K_tile<4>, q6_K_tile<1>, kQKK>(
        cols, w, group_stride, n_groups, act, act_stride, info, info_stride, n_act, y, ldy);
}

}  // namespace lokal::kernels
