// AVX-512 VNNI kernel for the packed IQ4_XS groups (layout in packed_layout.h), on pairs of
// groups as packed_kquants_avx512.cpp's (see packed_pairs_avx512.h). VPDPBUSD multiplies
// unsigned by signed bytes, so the levels (-127..113) are looked up shifted by +128 (one VPSHUFB
// per 64 nibbles); each sub-block's sums start at -128 x the sum of its activations, which takes
// the shift back off before its scale applies.
//
// The integer sums are exact and the float steps are the scalar reference's
// (packed_q1_iq4.cpp), so results are bit for bit the reference's. An odd last group and
// generation run AVX2's kernel.
//
// GCC 12's AVX-512 headers build _mm512_undefined_*() from a self-initialised variable and then
// warn about it at every use (a false positive of the header, see vec_dot_avx512.cpp).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <cstddef>

#include "kernels/cpu/kernel_rows.h"
#include "kernels/cpu/packed_layout.h"
#include "kernels/cpu/packed_pairs_avx512.h"
#include "kernels/cpu/packed_tiles.h"
#include "tensor/quant_blocks.h"

namespace lokal::kernels {
namespace {

using packed_tiles::ActRows;
using namespace avx512_pairs;  // NOLINT(google-build-using-namespace)

#define LOKAL_UNROLL _Pragma("GCC unroll 8")

// Row r's scale of sub-block s, sign-extended, in lane r (group 0) and lane 8 + r (group 1).
inline __m512i sub_block_scales(const int8_t* p0, const int8_t* p1) {
    const __m128i s0 = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p0));
    const __m128i s1 = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p1));
    return _mm512_cvtepi8_epi32(_mm_unpacklo_epi64(s0, s1));
}

template <int kRn>
void iq4_xs_pair_tile(int64_t nb, const block_iq4_xsx8* w0, const block_iq4_xsx8* w1,
                      const ActRows& ar, float* y, size_t ldy) {
    const __m512i table = shifted_iq4_table();
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    const block_q8_K* a[kRn];
    LOKAL_UNROLL
    for (int j = 0; j < kRn; ++j) a[j] = ar.row<block_q8_K>(j);
    FloatSums<kRn> acc(y, ldy);
    for (int64_t ib = 0; ib < nb; ++ib) {
        const block_iq4_xsx8& p0 = w0[ib];
        const block_iq4_xsx8& p1 = w1[ib];
        __m512i isum[kRn];
        LOKAL_UNROLL
        for (int j = 0; j < kRn; ++j) isum[j] = _mm512_setzero_si512();
        for (int s = 0; s < 8; ++s) {
            // Shifted levels (at most 241) times activations (at most 128 in magnitude): 32 of
            // them stay far inside 32 bits.
            __m512i sums[kRn];
            LOKAL_UNROLL
            for (int j = 0; j < kRn; ++j) {
                const int16_t* bsums = a[j][ib].bsums + 2 * s;
                sums[j] = _mm512_set1_epi32(-128 * (bsums[0] + bsums[1]));
            }
            LOKAL_UNROLL
            for (int h = 0; h < 4; ++h) {
                const __m512i v = load_pair(p0.qs + 128 * s + 32 * h, p1.qs + 128 * s + 32 * h);
                const __m512i lo = _mm512_shuffle_epi8(table, _mm512_and_si512(v, m4));
                const __m512i hi =
                    _mm512_shuffle_epi8(table, _mm512_and_si512(_mm512_srli_epi16(v, 4), m4));
                LOKAL_UNROLL
                for (int j = 0; j < kRn; ++j) {
                    const int8_t* x = a[j][ib].qs + 32 * s + 4 * h;
                    sums[j] = _mm512_dpbusd_epi32(sums[j], lo, bcast4(x));
                    sums[j] = _mm512_dpbusd_epi32(sums[j], hi, bcast4(x + 16));
                }
            }
            const __m512i sc = sub_block_scales(p0.scales[s], p1.scales[s]);
            LOKAL_UNROLL
            for (int j = 0; j < kRn; ++j) {
                isum[j] = _mm512_add_epi32(isum[j], _mm512_mullo_epi32(sums[j], sc));
            }
        }
        const __m512 dw = load_f16_pair(p0.d, p1.d);
        LOKAL_UNROLL
        for (int j = 0; j < kRn; ++j) {
            const __m512 d = _mm512_mul_ps(dw, _mm512_set1_ps(a[j][ib].d));
            acc.store(j, _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(isum[j]), acc.load(j)));
        }
    }
}

}  // namespace

void avx512_packed_iq4_xs(int64_t cols, const uint8_t* w, size_t group_stride, int n_groups,
                          const uint8_t* act, size_t act_stride, const uint8_t* info,
                          size_t info_stride, int n_act, float* y, size_t ldy) {
    gemm_pairs<block_iq4_xsx8, iq4_xs_pair_tile<8>, iq4_xs_pair_tile<4>, iq4_xs_pair_tile<1>,
               avx2_packed_iq4_xs>(cols, w, group_stride, n_groups, act, act_stride, info,
                                   info_stride, n_act, y, ldy);
}

}  // namespace lokal::kernels
