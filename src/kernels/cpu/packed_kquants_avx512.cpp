// AVX-512 VNNI kernels for the packed Q4_K, Q5_K, Q6_K, Q3_K and Q2_K groups (layouts in packed.h).
// One 512-bit register holds the same 32 bytes of two neighbouring groups, so lanes 0..7 are rows
// 8g..8g+7 and lanes 8..15 rows 8g+8..8g+15: every unpack instruction serves 16 rows, the 4
// activation bytes broadcast to all lanes stay one load, and the 16 results of a pair of groups are
// contiguous in y (one store). For prompts only: generation keeps AVX2's kernels (gemm_pairs).
// VPDPBUSD sums a sub-block's u8 x s8 products straight into 32 bits; one VPMULLD per sub-block
// applies its scale (AVX2 needs VPMADDUBSW, a 16-bit add and a VPMADDWD + add per step instead).
//
// The integer sums are exact and the float steps are the scalar reference's (packed.cpp), so
// results are bit for bit the reference's. An odd last group runs AVX2's kernel.
//
// GCC 12's AVX-512 headers build _mm512_undefined_*() from a self-initialised variable and then
// warn about it at every use (a false positive of the header, see vec_dot_avx512.cpp).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <cstddef>
#include <cstring>

#include "kernels/cpu/kernel_rows.h"
#include "kernels/cpu/packed.h"
#include "kernels/cpu/packed_layout.h"
#include "kernels/cpu/packed_pairs_avx512.h"
#include "kernels/cpu/packed_tiles.h"
#include "tensor/quant_blocks.h"

namespace lokal::kernels {
namespace {

using packed_tiles::ActRows;
using namespace avx512_pairs;  // NOLINT(google-build-using-namespace)

#define LOKAL_UNROLL _Pragma("GCC unroll 8")

// The unsigned quants of sub-block 2k + half held by load h of a pair of Q4_K groups: the low
// (half 0) or high nibbles.
struct Q4KQuants {
    using Packed = block_q4_Kx8;
    static __m512i get(const Packed& p0, const Packed& p1, int k, int half, int h) {
        const __m512i v = load_pair(p0.qs + 256 * k + 32 * h, p1.qs + 256 * k + 32 * h);
        return _mm512_and_si512(half == 0 ? v : _mm512_srli_epi16(v, 4), _mm512_set1_epi8(0x0F));
    }
};

// Q5_K: Q4_K's nibbles plus 16 where bit 2k + half of the fifth-bit bytes of load h is set
// (one test into a mask and one masked add, instead of shifting that bit into place).
struct Q5KQuants {
    using Packed = block_q5_Kx8;
    static __m512i get(const Packed& p0, const Packed& p1, int k, int half, int h) {
        const __m512i v = load_pair(p0.qs + 256 * k + 32 * h, p1.qs + 256 * k + 32 * h);
        const __m512i nib =
            _mm512_and_si512(half == 0 ? v : _mm512_srli_epi16(v, 4), _mm512_set1_epi8(0x0F));
        const __mmask64 fifth =
            _mm512_test_epi8_mask(load_pair(p0.qh + 32 * h, p1.qh + 32 * h),
                                  _mm512_set1_epi8(static_cast<char>(1 << (2 * k + half))));
        return _mm512_mask_add_epi8(nib, fifth, nib, _mm512_set1_epi8(16));
    }
};

// Q4_K and Q5_K (Quants gives a sub-block's unsigned quants): x = d * sc * q - dmin * m. Quants
// up to 31 times activations of at most 128 in magnitude keep VPDPBUSD's sums exact.
template <typename Quants, int kRn>
void k4_pair_tile(int64_t nb, const typename Quants::Packed* w0, const typename Quants::Packed* w1,
                  const ActRows& ar, float* y, size_t ldy) {
    const __m512i low_byte = _mm512_set1_epi32(0xFF);
    const block_q8_K* a[kRn];
    const ActInfoQ8_K* ai[kRn];
    LOKAL_UNROLL
    for (int j = 0; j < kRn; ++j) {
        a[j] = ar.row<block_q8_K>(j);
        ai[j] = ar.info_row<ActInfoQ8_K>(j);
    }
    FloatSums<kRn> acc(y, ldy);
    for (int64_t ib = 0; ib < nb; ++ib) {
        const auto& p0 = w0[ib];
        const auto& p1 = w1[ib];
        __m512i isum[kRn];
        LOKAL_UNROLL
        for (int j = 0; j < kRn; ++j) isum[j] = _mm512_setzero_si512();
        // Sub-block 2k from the low nibbles, then 2k + 1 from the high ones: one sub-block's
        // 32-bit sums per activation row are live at a time.
        for (int k = 0; k < 4; ++k) {
            const __m512i words = scale_words(p0.scales[k], p1.scales[k]);
            LOKAL_UNROLL
            for (int half = 0; half < 2; ++half) {
                __m512i s[kRn];
                LOKAL_UNROLL
                for (int j = 0; j < kRn; ++j) s[j] = _mm512_setzero_si512();
#pragma GCC unroll 8
                for (int h = 0; h < 8; ++h) {
                    const __m512i q = Quants::get(p0, p1, k, half, h);
                    LOKAL_UNROLL
                    for (int j = 0; j < kRn; ++j) {
                        const int8_t* x = a[j][ib].qs + 64 * k + 32 * half + 4 * h;
                        s[j] = _mm512_dpbusd_epi32(s[j], q, bcast4(x));
                    }
                }
                const __m512i sc =
                    half == 0 ? _mm512_and_si512(words, low_byte) : _mm512_srli_epi32(words, 8);
                LOKAL_UNROLL
                for (int j = 0; j < kRn; ++j) {
                    isum[j] = _mm512_add_epi32(isum[j], _mm512_mullo_epi32(s[j], sc));
                }
            }
        }
        __m512i imin[kRn];
        LOKAL_UNROLL
        for (int j = 0; j < kRn; ++j) imin[j] = _mm512_setzero_si512();
        LOKAL_UNROLL
        for (int k = 0; k < 4; ++k) {
            const __m512i m16 = _mm512_cvtepu8_epi16(load_pair128(p0.mins[k], p1.mins[k]));
            LOKAL_UNROLL
            for (int j = 0; j < kRn; ++j) {
                imin[j] =
                    _mm512_dpwssd_epi32(imin[j], m16, bcast_pair16(ai[j][ib].sub_sums + 2 * k));
            }
        }
        const __m512 dw = load_f16_pair(p0.d, p1.d);
        const __m512 dmw = load_f16_pair(p0.dmin, p1.dmin);
        LOKAL_UNROLL
        for (int j = 0; j < kRn; ++j) {
            const __m512 da = _mm512_set1_ps(a[j][ib].d);
            __m512 sum = acc.load(j);
            sum = _mm512_fmadd_ps(_mm512_mul_ps(dw, da), _mm512_cvtepi32_ps(isum[j]), sum);
            sum = _mm512_fnmadd_ps(_mm512_mul_ps(dmw, da), _mm512_cvtepi32_ps(imin[j]), sum);
            acc.store(j, sum);
        }
    }
}

// Quant i (0..3) of the four that packed_layout.h's three bytes per four hold, for load at (i is
// a constant once the caller's loops unroll).
inline __m512i q6_quants(int i, const uint8_t* at0, const uint8_t* at1) {
    const __m512i m6 = _mm512_set1_epi8(0x3F);
    if (i == 0) return _mm512_and_si512(load_pair(at0, at1), m6);
    if (i == 2) return _mm512_and_si512(load_pair(at0 + 32, at1 + 32), m6);
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    const __m512i m2 = _mm512_set1_epi8(0x30);
    const __m512i nibbles = load_pair(at0 + 64, at1 + 64);
    const __m512i high = load_pair(at0 + (i == 1 ? 0 : 32), at1 + (i == 1 ? 0 : 32));
    const __m512i low = i == 1 ? nibbles : _mm512_srli_epi16(nibbles, 4);
    return _mm512_or_si512(_mm512_and_si512(low, m4),
                           _mm512_and_si512(_mm512_srli_epi16(high, 2), m2));
}

// Q6_K's and Q3_K's signed scales: x = d * sc * (q - 2^kOffsetShift). Words holds row r's scale
// pair (sub-blocks 2k, 2k + 1) in lane r; hh picks one, sign-extended.
struct SignedScales {
    static constexpr bool kMins = false;
    static __m512i scale(__m512i words, int hh) {
        return hh == 0 ? _mm512_srai_epi32(_mm512_slli_epi32(words, 24), 24)
                       : _mm512_srai_epi32(words, 8);
    }
    // The 16-bit values that multiply the activations' bsums: the scales.
    static __m512i bsum_weights(__m256i pairs) { return _mm512_cvtepi8_epi16(pairs); }
};

// The quants (stored as q + 2^kOffsetShift) of elements 128 c2 + 32 i + 4 h + j of a pair of
// Q6_K or Q3_K groups, as unsigned bytes.
struct Q6KQuants : SignedScales {
    using Packed = block_q6_Kx8;
    static constexpr int kOffsetShift = 5;
    static __m512i get(const Packed& p0, const Packed& p1, int c2, int i, int h) {
        return q6_quants(i, p0.qs + q6_at(c2, h, 0), p1.qs + q6_at(c2, h, 0));
    }
};

// Q3_K: the 2 low bits (bits 2i, 2i + 1) plus 4 where hmask bit 4 c2 + i is set.
struct Q3KQuants : SignedScales {
    using Packed = block_q3_Kx8;
    static constexpr int kOffsetShift = 2;
    static __m512i get(const Packed& p0, const Packed& p1, int c2, int i, int h) {
        const __m512i v = load_pair(p0.qs + k2_at(c2, h, 0), p1.qs + k2_at(c2, h, 0));
        const __m512i low =
            _mm512_and_si512(_mm512_srli_epi16(v, (unsigned)(2 * i)), _mm512_set1_epi8(3));
        const __mmask64 high =
            _mm512_test_epi8_mask(load_pair(p0.hmask + 32 * h, p1.hmask + 32 * h),
                                  _mm512_set1_epi8(static_cast<char>(1 << (4 * c2 + i))));
        return _mm512_mask_add_epi8(low, high, low, _mm512_set1_epi8(4));
    }
};

// Q2_K: x = d * sc * q - dmin * m with the 2-bit quants as they are; each scale byte holds
// sc | m << 4.
struct Q2KQuants {
    using Packed = block_q2_Kx8;
    static constexpr bool kMins = true;
    static __m512i get(const Packed& p0, const Packed& p1, int c2, int i, int h) {
        const __m512i v = load_pair(p0.qs + k2_at(c2, h, 0), p1.qs + k2_at(c2, h, 0));
        return _mm512_and_si512(_mm512_srli_epi16(v, (unsigned)(2 * i)), _mm512_set1_epi8(3));
    }
    static __m512i scale(__m512i words, int hh) {
        return _mm512_and_si512(hh == 0 ? words : _mm512_srli_epi32(words, 8),
                                _mm512_set1_epi32(0x0F));
    }
    // The mins.
    static __m512i bsum_weights(__m256i pairs) {
        return _mm512_cvtepu8_epi16(
            _mm256_and_si256(_mm256_srli_epi16(pairs, 4), _mm256_set1_epi8(0x0F)));
    }
};

// Sub-blocks 2k and 2k + 1 (k = 4 c2 + i) of a Q6_K, Q3_K or Q2_K super-block into isum: they are
// loads h < 4 and h >= 4 of quant i of half c2. One sub-block's 32-bit sums per activation row are
// live at a time.
template <typename Quants, int kRn>
__attribute__((always_inline)) inline void q6_sub_block_pair(const typename Quants::Packed& p0,
                                                             const typename Quants::Packed& p1,
                                                             const block_q8_K* const* a, int64_t ib,
                                                             int c2, int i, __m512i* isum) {
    const int k = 4 * c2 + i;
    // Row r's scale pair: the low byte for 2k, the high one for 2k + 1.
    const __m512i words = _mm512_cvtepi16_epi32(load_pair128(p0.scale_pairs[k], p1.scale_pairs[k]));
    LOKAL_UNROLL
    for (int hh = 0; hh < 2; ++hh) {
        __m512i s[kRn];
        LOKAL_UNROLL
        for (int j = 0; j < kRn; ++j) s[j] = _mm512_setzero_si512();
        LOKAL_UNROLL
        for (int h = 4 * hh; h < 4 * hh + 4; ++h) {
            const __m512i v = Quants::get(p0, p1, c2, i, h);
            LOKAL_UNROLL
            for (int j = 0; j < kRn; ++j) {
                const int8_t* q = a[j][ib].qs + 128 * c2 + 32 * i + 4 * h;
                s[j] = _mm512_dpbusd_epi32(s[j], v, bcast4(q));
            }
        }
        const __m512i sc = Quants::scale(words, hh);
        LOKAL_UNROLL
        for (int j = 0; j < kRn; ++j) {
            isum[j] = _mm512_add_epi32(isum[j], _mm512_mullo_epi32(s[j], sc));
        }
    }
}

// Q6_K, Q3_K (an offset) and Q2_K (mins): 8-bit scales per 16 elements.
template <typename Quants, int kRn>
void k6_pair_tile(int64_t nb, const typename Quants::Packed* w0, const typename Quants::Packed* w1,
                  const ActRows& ar, float* y, size_t ldy) {
    const block_q8_K* a[kRn];
    LOKAL_UNROLL
    for (int j = 0; j < kRn; ++j) a[j] = ar.row<block_q8_K>(j);
    FloatSums<kRn> acc(y, ldy);
    for (int64_t ib = 0; ib < nb; ++ib) {
        const auto& p0 = w0[ib];
        const auto& p1 = w1[ib];
        __m512i isum[kRn];
        LOKAL_UNROLL
        for (int j = 0; j < kRn; ++j) isum[j] = _mm512_setzero_si512();
        // One activation row unrolls the loop over the quants i (i becomes a constant, the
        // branches of q6_quants go); tiles keep it a loop: unrolled, GCC shares loads between
        // quants and keeps their unpacked values live, which spills the tile's sums (15% slower).
        if constexpr (kRn == 1) {
            for (int c2 = 0; c2 < 2; ++c2) {
                LOKAL_UNROLL
                for (int i = 0; i < 4; ++i)
                    q6_sub_block_pair<Quants, kRn>(p0, p1, a, ib, c2, i, isum);
            }
        } else {
            for (int c2 = 0; c2 < 2; ++c2) {
#pragma GCC unroll 1
                for (int i = 0; i < 4; ++i)
                    q6_sub_block_pair<Quants, kRn>(p0, p1, a, ib, c2, i, isum);
            }
        }
        // corr = sum over sub-blocks of bsum_weight * sum(act): the scales (Q6_K, Q3_K: the
        // offset times it comes off isum) or the mins (Q2_K).
        __m512i corr[kRn];
        LOKAL_UNROLL
        for (int j = 0; j < kRn; ++j) corr[j] = _mm512_setzero_si512();
        LOKAL_UNROLL
        for (int k = 0; k < 8; ++k) {
            const __m512i sc16 =
                Quants::bsum_weights(load_pair128(p0.scale_pairs[k], p1.scale_pairs[k]));
            LOKAL_UNROLL
            for (int j = 0; j < kRn; ++j) {
                corr[j] = _mm512_dpwssd_epi32(corr[j], sc16, bcast_pair16(a[j][ib].bsums + 2 * k));
            }
        }
        const __m512 dw = load_f16_pair(p0.d, p1.d);
        if constexpr (Quants::kMins) {
            const __m512 dmw = load_f16_pair(p0.dmin, p1.dmin);
            LOKAL_UNROLL
            for (int j = 0; j < kRn; ++j) {
                const __m512 da = _mm512_set1_ps(a[j][ib].d);
                __m512 sum = acc.load(j);
                sum = _mm512_fmadd_ps(_mm512_mul_ps(dw, da), _mm512_cvtepi32_ps(isum[j]), sum);
                sum = _mm512_fnmadd_ps(_mm512_mul_ps(dmw, da), _mm512_cvtepi32_ps(corr[j]), sum);
                acc.store(j, sum);
            }
        } else {
            LOKAL_UNROLL
            for (int j = 0; j < kRn; ++j) {
                const __m512i itot =
                    _mm512_sub_epi32(isum[j], _mm512_slli_epi32(corr[j], Quants::kOffsetShift));
                const __m512 d = _mm512_mul_ps(dw, _mm512_set1_ps(a[j][ib].d));
                acc.store(j, _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(itot), acc.load(j)));
            }
        }
    }
}

}  // namespace

void avx512_packed_q4_K(int64_t cols, const uint8_t* w, size_t group_stride, int n_groups,
                        const uint8_t* act, size_t act_stride, const uint8_t* info,
                        size_t info_stride, int n_act, float* y, size_t ldy) {
    gemm_pairs<block_q4_Kx8, k4_pair_tile<Q4KQuants, 8>, k4_pair_tile<Q4KQuants, 4>,
               k4_pair_tile<Q4KQuants, 1>, avx2_packed_q4_K>(
        cols, w, group_stride, n_groups, act, act_stride, info, info_stride, n_act, y, ldy);
}

void avx512_packed_q5_K(int64_t cols, const uint8_t* w, size_t group_stride, int n_groups,
                        const uint8_t* act, size_t act_stride, const uint8_t* info,
                        size_t info_stride, int n_act, float* y, size_t ldy) {
    gemm_pairs<block_q5_Kx8, k4_pair_tile<Q5KQuants, 8>, k4_pair_tile<Q5KQuants, 4>,
               k4_pair_tile<Q5KQuants, 1>, avx2_packed_q5_K>(
        cols, w, group_stride, n_groups, act, act_stride, info, info_stride, n_act, y, ldy);
}

void avx512_packed_q6_K(int64_t cols, const uint8_t* w, size_t group_stride, int n_groups,
                        const uint8_t* act, size_t act_stride, const uint8_t* info,
                        size_t info_stride, int n_act, float* y, size_t ldy) {
    gemm_pairs<block_q6_Kx8, k6_pair_tile<Q6KQuants, 8>, k6_pair_tile<Q6KQuants, 4>,
               k6_pair_tile<Q6KQuants, 1>, avx2_packed_q6_K>(
        cols, w, group_stride, n_groups, act, act_stride, info, info_stride, n_act, y, ldy);
}

void avx512_packed_q2_K(int64_t cols, const uint8_t* w, size_t group_stride, int n_groups,
                        const uint8_t* act, size_t act_stride, const uint8_t* info,
                        size_t info_stride, int n_act, float* y, size_t ldy) {
    gemm_pairs<block_q2_Kx8, k6_pair_tile<Q2KQuants, 8>, k6_pair_tile<Q2KQuants, 4>,
               k6_pair_tile<Q2KQuants, 1>, avx2_packed_q2_K>(
        cols, w, group_stride, n_groups, act, act_stride, info, info_stride, n_act, y, ldy);
}

void avx512_packed_q3_K(int64_t cols, const uint8_t* w, size_t group_stride, int n_groups,
                        const uint8_t* act, size_t act_stride, const uint8_t* info,
                        size_t info_stride, int n_act, float* y, size_t ldy) {
    gemm_pairs<block_q3_Kx8, k6_pair_tile<Q3KQuants, 8>, k6_pair_tile<Q3KQuants, 4>,
               k6_pair_tile<Q3KQuants, 1>, avx2_packed_q3_K>(
        cols, w, group_stride, n_groups, act, act_stride, info, info_stride, n_act, y, ldy);
}

}  // namespace lokal::kernels
