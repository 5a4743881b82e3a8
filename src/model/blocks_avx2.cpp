// AVX2 swiglu: SiLU through an 8-lane exp (a degree-7 polynomial after range reduction, within
// a few ulp of std::exp), so the results are within a few ulp of the scalar reference.
#include <immintrin.h>

#include "model/blocks_internal.h"

namespace lokal::model::detail {
namespace {

// e^x for x in [-87, 88] (callers clamp).
inline __m256 exp8(__m256 x) {
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m256 r = _mm256_fmadd_ps(n, _mm256_set1_ps(-1.42860682030941723e-6f),
                                     _mm256_fmadd_ps(n, _mm256_set1_ps(-0.693145751953125f), x));
    constexpr float kC[8] = {1.0f,      1.0f,       1.0f / 2,   1.0f / 6,
                             1.0f / 24, 1.0f / 120, 1.0f / 720, 1.0f / 5040};
    __m256 p = _mm256_set1_ps(kC[7]);
    for (int k = 6; k >= 0; --k) p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kC[k]));
    const __m256i e =
        _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

}  // namespace

void swiglu_avx2(const float* gate, const float* up, float* out, int n) {
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 g = _mm256_loadu_ps(gate + i);
        // e^-g with -g clamped to [-87, 88]: beyond, 1 + e^-g is 1 or ~1.7e38 either way, and
        // the result differs from the reference's by less than 1e-36.
        const __m256 x = _mm256_sub_ps(_mm256_setzero_ps(), g);
        const __m256 e =
            exp8(_mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.0f)), _mm256_set1_ps(88.0f)));
        const __m256 silu = _mm256_div_ps(g, _mm256_add_ps(_mm256_set1_ps(1.0f), e));
        _mm256_storeu_ps(out + i, _mm256_mul_ps(silu, _mm256_loadu_ps(up + i)));
    }
    swiglu_scalar(gate + i, up + i, out + i, n - i);
}

}  // namespace lokal::model::detail
