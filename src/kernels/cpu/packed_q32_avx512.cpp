// AVX-512 VNNI kernels for the packed 32-column block types Q4_0, Q5_0 and Q8_0 (layouts in
// packed.h). Two groups side by side fill a 512-bit register: lanes 0..7 hold 4 bytes of each
// row of group g, lanes 8..15 those of group g + 1, so 4 activation bytes, broadcast straight
// from memory as VPDPBUSD's operand, meet 16 weight rows in one instruction that also adds the
// products into 32-bit sums. A tile of up to 8 activation rows shares every weight load and
// unpack; the 16 output rows of a group pair are contiguous in y, one store per activation row.
//
// VPDPBUSD multiplies unsigned by signed bytes: Q4_0 and Q5_0 quants are stored unsigned
// (q + 8, q + 16) and Q8_0's are flipped to q + 128; each block's isum then subtracts the
// offset times the activation block's sum (ActInfoQ8_0::sum_x8). The integer sums are exact and
// the float steps are the scalar reference's (packed.cpp), so results equal it bit for bit. GCC 12's AVX-512 headers trip -Wuninitialized in
// _mm512_undefined_*() (see vec_dot_avx512.cpp).
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
#include "kernels/cpu/packed_tiles.h"
#include "tensor/quant_blocks.h"

namespace lokal::kernels {
namespace {

using packed_tiles::ActRows;

#define LOKAL_UNROLL _Pragma("GCC unroll 8")

// Bytes [off, off + 32) of one group's block and of the next group's, as one register.
inline __m512i join_groups(const uint8_t* g0, const uint8_t* g1) {
    const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(g0));
    const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(g1));
    return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}

// 4 activation bytes at p in every lane (the compiler folds it into VPDPBUSD's {1to16} operand).
inline __m512i bcast4(const int8_t* p) {
    int32_t v;
    std::memcpy(&v, p, 4);
    return _mm512_set1_epi32(v);
}

// The 16 block scales of a group pair, group g's in lanes 0..7.
inline __m512 load_scales(const uint16_t* d0, const uint16_t* d1) {
    const __m128i lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(d0));
    const __m128i hi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(d1));
    return _mm512_cvtph_ps(_mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1));
}

// Each type: kVectors unsigned weight vectors per block of a group pair; vector v meets the
// activation bytes from act_offset(v); isum = sum of products - kSumX8 * sum_x8.
// Q4_0: load h's low nibbles (columns 4h + j) and high nibbles (16 + 4h + j).
struct Q4_0Weights {
    using Packed = block_q4_0x8;
    static constexpr int kVectors = 8;
    static constexpr int kSumX8 = 1;
    static constexpr int act_offset(int v) { return (v % 2) * 16 + 4 * (v / 2); }
    struct Unpacker {
        __m512i m4 = _mm512_set1_epi8(0x0F);
        __m512i v = _mm512_setzero_si512();
        __m512i get(const Packed& b0, const Packed& b1, int i) {
            if (i % 2 == 0) {
                v = join_groups(b0.qs + 32 * (i / 2), b1.qs + 32 * (i / 2));
                return _mm512_and_si512(v, m4);
            }
            return _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
        }
    };
};

// Q5_0: as Q4_0 with each fifth bit moved to bit 4 (packed_layout.h: one shift per nibble set).
struct Q5_0Weights {
    using Packed = block_q5_0x8;
    static constexpr int kVectors = 8;
    static constexpr int kSumX8 = 2;
    static constexpr int act_offset(int v) { return Q4_0Weights::act_offset(v); }
    struct Unpacker {
        __m512i m4 = _mm512_set1_epi8(0x0F);
        __m512i bit4 = _mm512_set1_epi8(0x10);
        __m512i v = _mm512_setzero_si512();
        __m512i qh = _mm512_setzero_si512();
        __m512i get(const Packed& b0, const Packed& b1, int i) {
            if (i == 0) qh = join_groups(b0.qh, b1.qh);
            // Bit i of qh (2h for the low nibbles of load h, 2h + 1 for the high) to bit 4.
            const __m512i hb = i <= 4 ? _mm512_slli_epi16(qh, (unsigned)(4 - i))
                                      : _mm512_srli_epi16(qh, (unsigned)(i - 4));
            __m512i nib;
            if (i % 2 == 0) {
                v = join_groups(b0.qs + 32 * (i / 2), b1.qs + 32 * (i / 2));
                nib = v;
            } else {
                nib = _mm512_srli_epi16(v, 4);
            }
            // (nib & 0x0F) | (hb & 0x10): B | (A & C) for A = hb, B = nib & 0x0F, C = 0x10.
            return _mm512_ternarylogic_epi32(hb, _mm512_and_si512(nib, m4), bit4, 0xEC);
        }
    };
};

// Q8_0: load h (columns 4h + j), flipped from signed q to unsigned q + 128.
struct Q8_0Weights {
    using Packed = block_q8_0x8;
    static constexpr int kVectors = 8;
    static constexpr int kSumX8 = 16;
    static constexpr int act_offset(int v) { return 4 * v; }
    struct Unpacker {
        __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
        __m512i get(const Packed& b0, const Packed& b1, int i) {
            const auto* p0 = reinterpret_cast<const uint8_t*>(b0.qs) + 32 * i;
            const auto* p1 = reinterpret_cast<const uint8_t*>(b1.qs) + 32 * i;
            return _mm512_xor_si512(join_groups(p0, p1), flip);
        }
    };
};

// Groups w0 and w0 + 1 (the next is group_stride bytes on) against kRn activation rows.
template <typename W, int kRn>
void pair_tile(int64_t nb, const typename W::Packed* w0, const typename W::Packed* w1,
               const ActRows& ar, float* y, size_t ldy) {
    const block_q8_0* a[kRn];
    const ActInfoQ8_0* ai[kRn];
    __m512 acc[kRn];
    LOKAL_UNROLL
    for (int j = 0; j < kRn; ++j) {
        a[j] = ar.row<block_q8_0>(j);
        ai[j] = ar.info_row<ActInfoQ8_0>(j);
        acc[j] = _mm512_setzero_ps();
    }
    typename W::Unpacker un;
    for (int64_t ib = 0; ib < nb; ++ib) {
        __m512i isum[kRn];
        LOKAL_UNROLL
        for (int j = 0; j < kRn; ++j) isum[j] = _mm512_set1_epi32(-W::kSumX8 * ai[j][ib].sum_x8);
        LOKAL_UNROLL
        for (int v = 0; v < W::kVectors; ++v) {
            const __m512i wv = un.get(w0[ib], w1[ib], v);
            LOKAL_UNROLL
            for (int j = 0; j < kRn; ++j) {
                isum[j] = _mm512_dpbusd_epi32(isum[j], wv, bcast4(a[j][ib].qs + W::act_offset(v)));
            }
        }
        const __m512 dw = load_scales(w0[ib].d, w1[ib].d);
        LOKAL_UNROLL
        for (int j = 0; j < kRn; ++j) {
            const __m512 d = _mm512_mul_ps(dw, _mm512_set1_ps(ai[j][ib].d));
            acc[j] = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(isum[j]), acc[j]);
        }
    }
    LOKAL_UNROLL
    for (int j = 0; j < kRn; ++j) _mm512_storeu_ps(y + j * ldy, acc[j]);
}

// Group pairs against tiles of 8 activation rows, the rest in tiles of 4, 2 and 1; an odd last
// group, and generation's single activation row, on the AVX2 kernel (kOdd).
template <typename W, PackedGemm kOdd>
void gemm_pairs(int64_t cols, const uint8_t* w, size_t group_stride, int n_groups,
                const uint8_t* act, size_t act_stride, const uint8_t* info, size_t info_stride,
                int n_act, float* y, size_t ldy) {
    using Packed = typename W::Packed;
    const int64_t nb = cols / kQK32;
    int g = 0;
    if (n_act == 1) {
        // Generation is bound by memory bandwidth, and the pairs' two interleaved weight streams
        // measure slower there than AVX2's one (`lokal bench -n 128`, 1B Q4_0: 48-64 t/s vs 69).
        kOdd(cols, w, group_stride, n_groups, act, act_stride, info, info_stride, n_act, y, ldy);
        return;
    }
    for (; g + 2 <= n_groups; g += 2) {
        const auto* w0 = reinterpret_cast<const Packed*>(w + g * group_stride);
        const auto* w1 = reinterpret_cast<const Packed*>(w + (g + 1) * group_stride);
        const auto rows = [&](int b) {
            return ActRows{act + b * act_stride, act_stride, info + b * info_stride, info_stride};
        };
        float* yg = y + 8 * g;
        int b = 0;
        for (; b + 8 <= n_act; b += 8) pair_tile<W, 8>(nb, w0, w1, rows(b), yg + b * ldy, ldy);
        if (b + 4 <= n_act) {
            pair_tile<W, 4>(nb, w0, w1, rows(b), yg + b * ldy, ldy);
            b += 4;
        }
        if (b + 2 <= n_act) {
            pair_tile<W, 2>(nb, w0, w1, rows(b), yg + b * ldy, ldy);
            b += 2;
        }
        if (b < n_act) pair_tile<W, 1>(nb, w0, w1, rows(b), yg + b * ldy, ldy);
    }
    if (g < n_groups) {
        kOdd(cols, w + g * group_stride, group_stride, 1, act, act_stride, info, info_stride, n_act,
             y + 8 * g, ldy);
    }
}

}  // namespace

void avx512_packed_q4_0(int64_t cols, const uint8_t* w, size_t group_stride, int n_groups,
                        const uint8_t* act, size_t act_stride, const uint8_t* info,
                        size_t info_stride, int n_act, float* y, size_t ldy) {
    gemm_pairs<Q4_0Weights, avx2_packed_q4_0>(cols, w, group_stride, n_groups, act, act_stride,
                                              info, info_stride, n_act, y, ldy);
}

void avx512_packed_q5_0(int64_t cols, const uint8_t* w, size_t group_stride, int n_groups,
                        const uint8_t* act, size_t act_stride, const uint8_t* info,
                        size_t info_stride, int n_act, float* y, size_t ldy) {
    gemm_pairs<Q5_0Weights, avx2_packed_q5_0>(cols, w, group_stride, n_groups, act, act_stride,
                                              info, info_stride, n_act, y, ldy);
}

void avx512_packed_q8_0(int64_t cols, const uint8_t* w, size_t group_stride, int n_groups,
                        const uint8_t* act, size_t act_stride, const uint8_t* info,
                        size_t info_stride, int n_act, float* y, size_t ldy) {
    gemm_pairs<Q8_0Weights, avx2_packed_q8_0>(cols, w, group_stride, n_groups, act, act_stride,
                                              info, info_stride, n_act, y, ldy);
}

}  // namespace lokal::kernels
