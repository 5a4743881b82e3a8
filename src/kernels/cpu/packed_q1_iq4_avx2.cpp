// AVX2 kernels for the Q4_1, Q5_1, IQ4_NL and IQ4_XS group layouts (packed.h), in the manner of
// packed_avx2.cpp: each 32-byte weight load holds 8 nibbles of each of 8 rows, 4 activation bytes
// broadcast to every lane meet it, and lane r accumulates row r. IQ4's nibbles become their
// signed levels with one shuffle each; a signed-by-signed product goes through maddubs as
// |w| * (a with w's sign).
//
// The integer sums are exact and the float steps are the scalar reference's
// (packed_q1_iq4.cpp), so results are bit for bit the reference's.
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

template <int kRn>
struct Q8_1Acts {
    const block_q8_1* a[kRn];
    const ActInfoQ8_1* ai[kRn];
    __m256 acc[kRn];

    explicit Q8_1Acts(const ActRows& ar) {
        LOKAL_UNROLL
        for (int j = 0; j < kRn; ++j) {
            a[j] = ar.row<block_q8_1>(j);
            ai[j] = ar.info_row<ActInfoQ8_1>(j);
            acc[j] = _mm256_setzero_ps();
        }
    }
    void add_block(int64_t ib, __m256 d_w, __m256 m_w, const __m256i* isum) {
        LOKAL_UNROLL
        for (int j = 0; j < kRn; ++j) {
            const __m256 d = _mm256_mul_ps(d_w, _mm256_set1_ps(ai[j][ib].d));
            acc[j] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(isum[j]), acc[j]);
            acc[j] = _mm256_fmadd_ps(m_w, _mm256_set1_ps(ai[j][ib].s), acc[j]);
        }
    }
    void store(float* y, size_t ldy) const {
        LOKAL_UNROLL
        for (int j = 0; j < kRn; ++j) _mm256_storeu_ps(y + j * ldy, acc[j]);
    }
};

template <int kRn>
void q4_1_tile(int64_t nb, const block_q4_1x8* w, const ActRows& ar, float* y, size_t ldy) {
    const __m256i ones = _mm256_set1_epi16(1);
    Q8_1Acts<kRn> acts(ar);
    const auto& a = acts.a;
    for (int64_t ib = 0; ib < nb; ++ib) {
        prefetch_ahead<kRn>(w + ib);
        const int8_t* q[kRn];
        LOKAL_UNROLL
        for (int j = 0; j < kRn; ++j) q[j] = a[j][ib].qs;
        __m256i s[kRn];
        nibble_block_sums<kRn>(w[ib].qs, q, s);
        __m256i isum[kRn];
        LOKAL_UNROLL
        for (int j = 0; j < kRn; ++j) isum[j] = _mm256_madd_epi16(s[j], ones);
        acts.add_block(ib, load_f16x8(w[ib].d), load_f16x8(w[ib].m), isum);
    }
    acts.store(y, ldy);
}

// quants(ib, L, lo, hi) gives q5_32_quants<L> of block ib.
template <int kRn, typename Quants>
void q5_1_tile_with(int64_t nb, const block_q5_1x8* w, const Quants& quants, const ActRows& ar,
                    float* y, size_t ldy) {
    const __m256i ones = _mm256_set1_epi16(1);
    Q8_1Acts<kRn> acts(ar);
    const auto& a = acts.a;
    for (int64_t ib = 0; ib < nb; ++ib) {
        prefetch_ahead<kRn>(w + ib);
        __m256i isum[kRn];
        LOKAL_UNROLL
        for (int j = 0; j < kRn; ++j) isum[j] = _mm256_setzero_si256();
        // Quants reach 31: two loads' products (at most 4 * 31 * 127 per 16-bit lane) are
        // widened to 32 bits before the next two are added. Load h's fifth bits are bits 2h
        // (low nibbles) and 2h + 1 (high nibbles) of qh.
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
        acts.add_block(ib, load_f16x8(w[ib].d), load_f16x8(w[ib].m), isum);
    }
    acts.store(y, ldy);
}

template <int kRn>
void q5_1_tile(int64_t nb, const block_q5_1x8* w, const ActRows& ar, float* y, size_t ldy) {
    q5_1_tile_with<kRn>(nb, w, Q5_32FromBlocks<block_q5_1x8>{w}, ar, y, ldy);
}

template <int kRn>
void q5_1_tile_decoded(int64_t nb, const block_q5_1x8* w, const Vec256* decoded, const ActRows& ar,
                       float* y, size_t ldy) {
    q5_1_tile_with<kRn>(nb, w, Q5_32FromDecoded{decoded}, ar, y, ldy);
}

// One 32-column IQ4 block (Q4_0x8's qs) of the 8 rows against a tile's activations: for each
// row j, isum[j] += madd(pair sums, weight) per load, weight 1 (IQ4_NL) or the rows' sub-block
// scales as int16 pairs (IQ4_XS). The levels and activations reach 127 in magnitude, so a
// maddubs pair sum (at most 2 * 127 * 127) must widen before another is added.
template <int kRn>
inline void iq4_block(const uint8_t* qs, const int8_t* const* a, __m256i table, __m256i weight,
                      __m256i* isum) {
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    over_weight_vectors<kRn, 4>([&](int h) {
        const __m256i v = load256(qs + 32 * h);
        const __m256i lo = _mm256_shuffle_epi8(table, _mm256_and_si256(v, m4));
        const __m256i hi =
            _mm256_shuffle_epi8(table, _mm256_and_si256(_mm256_srli_epi16(v, 4), m4));
        const __m256i abs_lo = _mm256_sign_epi8(lo, lo);
        const __m256i abs_hi = _mm256_sign_epi8(hi, hi);
        LOKAL_UNROLL
        for (int j = 0; j < kRn; ++j) {
            const __m256i p_lo =
                _mm256_maddubs_epi16(abs_lo, _mm256_sign_epi8(bcast4(a[j] + 4 * h), lo));
            const __m256i p_hi =
                _mm256_maddubs_epi16(abs_hi, _mm256_sign_epi8(bcast4(a[j] + 16 + 4 * h), hi));
            isum[j] = _mm256_add_epi32(isum[j], _mm256_add_epi32(_mm256_madd_epi16(p_lo, weight),
                                                                 _mm256_madd_epi16(p_hi, weight)));
        }
    });
}

inline __m256i iq4_table() {
    return _mm256_broadcastsi128_si256(
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(kIq4nlValues)));
}

template <int kRn>
void iq4_nl_tile(int64_t nb, const block_iq4_nlx8* w, const ActRows& ar, float* y, size_t ldy) {
    const __m256i table = iq4_table();
    const __m256i ones = _mm256_set1_epi16(1);
    const block_q8_0* a[kRn];
    const ActInfoQ8_0* ai[kRn];
    __m256 acc[kRn];
    LOKAL_UNROLL
    for (int j = 0; j < kRn; ++j) {
        a[j] = ar.row<block_q8_0>(j);
        ai[j] = ar.info_row<ActInfoQ8_0>(j);
        acc[j] = _mm256_setzero_ps();
    }
    for (int64_t ib = 0; ib < nb; ++ib) {
        prefetch_ahead<kRn>(w + ib);
        const int8_t* q[kRn];
        __m256i isum[kRn];
        LOKAL_UNROLL
        for (int j = 0; j < kRn; ++j) {
            q[j] = a[j][ib].qs;
            isum[j] = _mm256_setzero_si256();
        }
        iq4_block<kRn>(w[ib].qs, q, table, ones, isum);
        const __m256 dw = load_f16x8(w[ib].d);
        LOKAL_UNROLL
        for (int j = 0; j < kRn; ++j) {
            const __m256 d = _mm256_mul_ps(dw, _mm256_set1_ps(ai[j][ib].d));
            acc[j] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(isum[j]), acc[j]);
        }
    }
    LOKAL_UNROLL
    for (int j = 0; j < kRn; ++j) _mm256_storeu_ps(y + j * ldy, acc[j]);
}

template <int kRn>
void iq4_xs_tile(int64_t nb, const block_iq4_xsx8* w, const ActRows& ar, float* y, size_t ldy) {
    const __m256i table = iq4_table();
    const block_q8_K* a[kRn];
    __m256 acc[kRn];
    LOKAL_UNROLL
    for (int j = 0; j < kRn; ++j) {
        a[j] = ar.row<block_q8_K>(j);
        acc[j] = _mm256_setzero_ps();
    }
    for (int64_t ib = 0; ib < nb; ++ib) {
        prefetch_ahead<kRn>(w + ib);
        const block_iq4_xsx8& p = w[ib];
        __m256i isum[kRn];
        LOKAL_UNROLL
        for (int j = 0; j < kRn; ++j) isum[j] = _mm256_setzero_si256();
        for (int s = 0; s < 8; ++s) {
            // Row r's scale of sub-block s in both 16-bit halves of lane r.
            const __m128i sc8 = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p.scales[s]));
            const __m256i sc = _mm256_cvtepi8_epi16(_mm_unpacklo_epi8(sc8, sc8));
            const int8_t* q[kRn];
            LOKAL_UNROLL
            for (int j = 0; j < kRn; ++j) q[j] = a[j][ib].qs + 32 * s;
            iq4_block<kRn>(p.qs + 128 * s, q, table, sc, isum);
        }
        const __m256 dw = load_f16x8(p.d);
        LOKAL_UNROLL
        for (int j = 0; j < kRn; ++j) {
            const __m256 d = _mm256_mul_ps(dw, _mm256_set1_ps(a[j][ib].d));
            acc[j] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(isum[j]), acc[j]);
        }
    }
    LOKAL_UNROLL
    for (int j = 0; j < kRn; ++j) _mm256_storeu_ps(y + j * ldy, acc[j]);
}

}  // namespace

// The kernels of the AVX2 table (vec_dot_avx2.cpp).
void avx2_packed_q4_1(int64_t cols, const uint8_t* w, size_t group_stride, int n_groups,
                      const uint8_t* act, size_t act_stride, const uint8_t* info,
                      size_t info_stride, int n_act, float* y, size_t ldy) {
    gemm<block_q4_1x8, 4, q4_1_tile<4>, q4_1_tile<1>, kQK32>(
        cols, w, group_stride, n_groups, act, act_stride, info, info_stride, n_act, y, ldy);
}

void avx2_packed_q5_1(int64_t cols, const uint8_t* w, size_t group_stride, int n_groups,
                      const uint8_t* act, size_t act_stride, const uint8_t* info,
                      size_t info_stride, int n_act, float* y, size_t ldy) {
    packed_tiles::gemm_decoded<block_q5_1x8, Vec256, kQ5_32DecodedVectors,
                               decode_q5_32<block_q5_1x8>, 4, q5_1_tile_decoded<4>, q5_1_tile<4>,
                               q5_1_tile<1>, kQK32>(cols, w, group_stride, n_groups, act,
                                                    act_stride, info, info_stride, n_act, y, ldy);
}

void avx2_packed_iq4_nl(int64_t cols, const uint8_t* w, size_t group_stride, int n_groups,
                        const uint8_t* act, size_t act_stride, const uint8_t* info,
                        size_t info_stride, int n_act, float* y, size_t ldy) {
    gemm<block_iq4_nlx8, 4, iq4_nl_tile<4>, iq4_nl_tile<1>, kQK32>(
        cols, w, group_stride, n_groups, act, act_stride, info, info_stride, n_act, y, ldy);
}

void avx2_packed_iq4_xs(int64_t cols, const uint8_t* w, size_t group_stride, int n_groups,
                        const uint8_t* act, size_t act_stride, const uint8_t* info,
                        size_t info_stride, int n_act, float* y, size_t ldy) {
    gemm<block_iq4_xsx8, 4, iq4_xs_tile<4>, iq4_xs_tile<1>, kQKK>(
        cols, w, group_stride, n_groups, act, act_stride, info, info_stride, n_act, y, ldy);
}

}  // namespace lokal::kernels
