// AVX-512 (F/BW/VL/DQ, VNNI where present) dot products for Q8_0, Q4_0 and Q6_K, the types where
// they measure faster than AVX2 (bench/kernels_bench vec_dot; Q4_K stays on AVX2, whose scale
// unpacking makes it 2.5x faster than the 512-bit version was). Compiled with AVX-512 flags, only
// called when cpu_features() reports them (Isa::Avx512). kVnni picks VPDPBUSD / VPDPWSSD over the
// VPMADDUBSW + VPMADDWD pair; the integer sums are exact either way. The integer work runs two
// 32-element runs per 512-bit register; the float part is the reference's (vec_dot_order.h): each
// half is folded back to the 8 lanes of a 256-bit register, so the results equal kernels_ref() bit
// for bit (vec_dot_test.cpp checks it wherever the CPU has AVX-512). GCC 12's AVX-512 headers build
// _mm512_undefined_*() from a self-initialised variable and then warn about it at every use (a
// known false positive of the header, not of this file).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include "kernels/cpu/gemm_tiles.h"
#include "kernels/cpu/kernel_rows.h"
#include "kernels/cpu/simd_avx2.h"
#include "tensor/quant_blocks.h"

namespace lokal::kernels {
namespace {

using namespace avx2;  // NOLINT(google-build-using-namespace): h2f, unpack_nibbles16, ...

// acc + sum of groups of 4 u8 * s8 products, per int32 lane.
template <bool kVnni>
inline __m512i dot_u8s8(__m512i acc, __m512i u, __m512i s) {
    if constexpr (kVnni) {
        return _mm512_dpbusd_epi32(acc, u, s);
    } else {
        const __m512i p16 = _mm512_maddubs_epi16(u, s);
        return _mm512_add_epi32(acc, _mm512_madd_epi16(p16, _mm512_set1_epi16(1)));
    }
}

// acc + sum of pairs of int16 products, per int32 lane.
template <bool kVnni>
inline __m512i dot_s16(__m512i acc, __m512i a, __m512i b) {
    if constexpr (kVnni) {
        return _mm512_dpwssd_epi32(acc, a, b);
    } else {
        return _mm512_add_epi32(acc, _mm512_madd_epi16(a, b));
    }
}

inline __m512i join(__m256i lo, __m256i hi) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}

// Signed x signed bytes: |x| times y with x's sign (|-128| reads as 128 unsigned: still exact).
template <bool kVnni>
inline __m512i dot_i8(__m512i x, __m512i y) {
    const __mmask64 neg = _mm512_movepi8_mask(x);
    const __m512i sy = _mm512_mask_sub_epi8(y, neg, _mm512_setzero_si512(), y);
    return dot_u8s8<kVnni>(_mm512_setzero_si512(), _mm512_abs_epi8(x), sy);
}

// Lanes 0..7 and 8..15 of a 512-bit float register, each scaled into the 256-bit accumulator:
// first the lower block's, then the upper block's (the reference's block order).
inline __m256 fma_halves(float d_lo, float d_hi, __m512 x, __m256 acc) {
    acc = _mm256_fmadd_ps(_mm256_set1_ps(d_lo), _mm512_castps512_ps256(x), acc);
    return _mm256_fmadd_ps(_mm256_set1_ps(d_hi), _mm512_extractf32x8_ps(x, 1), acc);
}

// Two 32-blocks per step; an odd last block runs alone in 256 bits.
template <bool kVnni>
float dot_q8_0(int64_t n, const void* wv, const void* av) {
    const block_q8_0* w = static_cast<const block_q8_0*>(wv);
    const block_q8_0* a = static_cast<const block_q8_0*>(av);
    const int64_t nb = n / kQK32;
    __m256 acc = _mm256_setzero_ps();
    int64_t ib = 0;
    for (; ib + 2 <= nb; ib += 2) {
        const __m512i x = join(load256(w[ib].qs), load256(w[ib + 1].qs));
        const __m512i y = join(load256(a[ib].qs), load256(a[ib + 1].qs));
        acc = fma_halves(h2f(w[ib].d) * h2f(a[ib].d), h2f(w[ib + 1].d) * h2f(a[ib + 1].d),
                         _mm512_cvtepi32_ps(dot_i8<kVnni>(x, y)), acc);
    }
    if (ib < nb) {
        const __m256i s = avx2::dot_i8(load256(w[ib].qs), load256(a[ib].qs));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(h2f(w[ib].d) * h2f(a[ib].d)), _mm256_cvtepi32_ps(s),
                              acc);
    }
    return hsum(acc);
}

// q4_0: sum (q - 8) * y = sum q * y - 8 * sum y, both as unsigned x signed dots.
template <bool kVnni>
float dot_q4_0(int64_t n, const void* wv, const void* av) {
    const block_q4_0* w = static_cast<const block_q4_0*>(wv);
    const block_q8_0* a = static_cast<const block_q8_0*>(av);
    const int64_t nb = n / kQK32;
    const __m512i eight = _mm512_set1_epi8(8);
    const __m512i zero = _mm512_setzero_si512();
    __m256 acc = _mm256_setzero_ps();
    int64_t ib = 0;
    for (; ib + 2 <= nb; ib += 2) {
        const __m512i q = join(unpack_nibbles16(w[ib].qs), unpack_nibbles16(w[ib + 1].qs));
        const __m512i y = join(load256(a[ib].qs), load256(a[ib + 1].qs));
        const __m512i s =
            _mm512_sub_epi32(dot_u8s8<kVnni>(zero, q, y), dot_u8s8<kVnni>(zero, eight, y));
        acc = fma_halves(h2f(w[ib].d) * h2f(a[ib].d), h2f(w[ib + 1].d) * h2f(a[ib + 1].d),
                         _mm512_cvtepi32_ps(s), acc);
    }
    if (ib < nb) {
        const __m256i q = _mm256_sub_epi8(unpack_nibbles16(w[ib].qs), _mm256_set1_epi8(8));
        const __m256i s = avx2::dot_i8(q, load256(a[ib].qs));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(h2f(w[ib].d) * h2f(a[ib].d)), _mm256_cvtepi32_ps(s),
                              acc);
    }
    return hsum(acc);
}

// The 16 int32 lanes folded to the reference's 8 (lane l + lane l + 8: both hold elements
// 4l..4l+3 of a run), exact.
inline __m256i fold_lanes(__m512i s) {
    return _mm256_add_epi32(_mm512_castsi512_si256(s), _mm512_extracti64x4_epi64(s, 1));
}

// q6_K: per 128-half, [ql0 | ql1] low nibbles give elements 0..63 and high nibbles 64..127.
template <bool kVnni>
float dot_q6_K(int64_t n, const void* wv, const void* av) {
    const block_q6_K* w = static_cast<const block_q6_K*>(wv);
    const block_q8_K* a = static_cast<const block_q8_K*>(av);
    const __m512i low4 = _mm512_set1_epi8(0x0F);
    const __m512i three = _mm512_set1_epi8(3);
    const __m512i m32 = _mm512_set1_epi8(32);
    // Word k of the scale vector for 64-element group g is scale 4g + k / 8.
    __m512i pick[4];
    for (int g = 0; g < 4; ++g) {
        alignas(64) int16_t idx[32];
        for (int k = 0; k < 32; ++k) idx[k] = (int16_t)(4 * g + k / 8);
        pick[g] = _mm512_load_si512(idx);
    }
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / kQKK; ++i) {
        const __m512i scales = _mm512_cvtepi8_epi16(
            _mm256_zextsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w[i].scales))));
        __m512i sumi = _mm512_setzero_si512();
        for (int half = 0; half < 2; ++half) {
            const __m512i ql = _mm512_loadu_si512(w[i].ql + 64 * half);
            const __m256i qh256 = load256(w[i].qh + 32 * half);
            const __m512i qh = join(qh256, _mm256_srli_epi16(qh256, 2));
            const __m512i q0 = _mm512_or_si512(_mm512_and_si512(ql, low4),
                                               _mm512_slli_epi16(_mm512_and_si512(qh, three), 4));
            const __m512i q1 = _mm512_or_si512(
                _mm512_and_si512(_mm512_srli_epi16(ql, 4), low4),
                _mm512_slli_epi16(_mm512_and_si512(_mm512_srli_epi16(qh, 4), three), 4));
            const int8_t* q8 = a[i].qs + 128 * half;
            const __m512i y0 = _mm512_loadu_si512(q8);
            const __m512i y1 = _mm512_loadu_si512(q8 + 64);
            const __m512i p0 =
                _mm512_sub_epi16(_mm512_maddubs_epi16(q0, y0), _mm512_maddubs_epi16(m32, y0));
            const __m512i p1 =
                _mm512_sub_epi16(_mm512_maddubs_epi16(q1, y1), _mm512_maddubs_epi16(m32, y1));
            sumi = dot_s16<kVnni>(sumi, p0, _mm512_permutexvar_epi16(pick[2 * half], scales));
            sumi = dot_s16<kVnni>(sumi, p1, _mm512_permutexvar_epi16(pick[2 * half + 1], scales));
        }
        const __m256 d = _mm256_set1_ps(h2f(w[i].d) * a[i].d);
        acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(fold_lanes(sumi)), acc);
    }
    return hsum(acc);
}

// Only Q6_K has a gemm: for Q8_0 and Q4_0 AVX2's register-blocked gemm (gemm_q8_avx2.cpp) is
// faster than rows of these kernels (bench/kernels_bench gemm_256x4096x32).
// The packed kernels need VPDPBUSD (packed_q32_avx512.cpp, packed_kquants_avx512.cpp,
// packed_iq4_avx512.cpp); without it they stay AVX2's.
template <bool kVnni>
constexpr KernelRow kRows[] = {
    {DType::Q4_0, dot_q4_0<kVnni>, nullptr, nullptr, kVnni ? avx512_packed_q4_0 : nullptr},
    {DType::Q5_0, nullptr, nullptr, nullptr, kVnni ? avx512_packed_q5_0 : nullptr},
    {DType::Q8_0, dot_q8_0<kVnni>, nullptr, nullptr, kVnni ? avx512_packed_q8_0 : nullptr},
    {DType::Q4_K, nullptr, nullptr, nullptr, kVnni ? avx512_packed_q4_K : nullptr},
    {DType::Q5_K, nullptr, nullptr, nullptr, kVnni ? avx512_packed_q5_K : nullptr},
    {DType::Q6_K, dot_q6_K<kVnni>, nullptr, gemm_tiled<dot_q6_K<kVnni>, nullptr>,
     kVnni ? avx512_packed_q6_K : nullptr},
    {DType::Q2_K, nullptr, nullptr, nullptr, kVnni ? avx512_packed_q2_K : nullptr},
    {DType::Q3_K, nullptr, nullptr, nullptr, kVnni ? avx512_packed_q3_K : nullptr},
    {DType::Q4_1, nullptr, nullptr, nullptr, kVnni ? avx512_packed_q4_1 : nullptr},
    {DType::Q5_1, nullptr, nullptr, nullptr, kVnni ? avx512_packed_q5_1 : nullptr},
    {DType::IQ4_NL, nullptr, nullptr, nullptr, kVnni ? avx512_packed_iq4_nl : nullptr},
    {DType::IQ4_XS, nullptr, nullptr, nullptr, kVnni ? avx512_packed_iq4_xs : nullptr},
};

}  // namespace

KernelRows avx512_rows(bool vnni) {
    return vnni ? KernelRows(kRows<true>) : KernelRows(kRows<false>);
}

}  // namespace lokal::kernels
