// The 8-lane exp of exp_poly.h, for *_avx2.cpp files only (it needs -mavx2 -mfma).
#pragma once

#include <immintrin.h>

#include "kernels/cpu/exp_poly.h"

namespace lokal::kernels::detail {

// e^x in each lane for x in [kMin, kMax]; lanes outside the range are garbage (callers clamp or
// mask them).
[[gnu::always_inline]] inline __m256 exp8_in_range(__m256 x) {
    using namespace exp_consts;  // NOLINT(google-build-using-namespace)
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(kLog2e)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m256 r =
        _mm256_fmadd_ps(n, _mm256_set1_ps(-kLn2Lo), _mm256_fmadd_ps(n, _mm256_set1_ps(-kLn2Hi), x));
    __m256 p = _mm256_set1_ps(kC[7]);
#pragma GCC unroll 8
    for (int k = 6; k >= 0; --k) p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kC[k]));
    const __m256i e =
        _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

// exp8_in_range masked to 0 below kMin, as softmax_exp.
[[gnu::always_inline]] inline __m256 softmax_exp8(__m256 x) {
    const __m256 in_range = _mm256_cmp_ps(x, _mm256_set1_ps(exp_consts::kMin), _CMP_GE_OQ);
    return _mm256_and_ps(exp8_in_range(x), in_range);
}

// out[i] = softmax_exp(s[i] - m) for 8 scores s (attend_tiled's softmax weights).
[[gnu::always_inline]] inline void softmax_weights8(const float* s, float m, float* out) {
    _mm256_storeu_ps(out, softmax_exp8(_mm256_sub_ps(_mm256_loadu_ps(s), _mm256_set1_ps(m))));
}

}  // namespace lokal::kernels::detail
