// AVX2 swiglu: SiLU through our 8-lane exp (exp_poly_avx2.h), bit for bit the scalar
// reference's (blocks.cpp), which uses the same exp lane by lane.
#include <immintrin.h>

#include "kernels/cpu/row_ops_internal.h"
#include "kernels/cpu/exp_poly_avx2.h"

namespace lokal::kernels::detail {
void swiglu_avx2(const float* gate, const float* up, float* out, int n) {
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 g = _mm256_loadu_ps(gate + i);
        // e^-g with -g clamped to [-87, 88], as swiglu_scalar.
        const __m256 x = _mm256_sub_ps(_mm256_setzero_ps(), g);
        const __m256 e = exp8_in_range(_mm256_min_ps(
            _mm256_max_ps(x, _mm256_set1_ps(exp_consts::kMin)), _mm256_set1_ps(exp_consts::kMax)));
        const __m256 silu = _mm256_div_ps(g, _mm256_add_ps(_mm256_set1_ps(1.0f), e));
        _mm256_storeu_ps(out + i, _mm256_mul_ps(silu, _mm256_loadu_ps(up + i)));
    }
    swiglu_scalar(gate + i, up + i, out + i, n - i);
}

}  // namespace lokal::kernels::detail
