// Inline AVX2 unpacking of the weight blocks whose activations are Q8_0 (Q8_0, Q4_0, Q5_0) to
// 32 signed bytes, shared by the single-row kernels and the gemm. Include only from files
// compiled with -mavx2 (see simd_avx2.h).
#pragma once

#include "kernels/cpu/simd_avx2.h"
#include "tensor/quant_blocks.h"

namespace lokal::kernels::avx2 {

static inline __m256i unpack_block(const block_q8_0& b) {
    return load256(b.qs);
}
static inline __m256i unpack_block(const block_q4_0& b) {
    return _mm256_sub_epi8(unpack_nibbles16(b.qs), _mm256_set1_epi8(8));
}
static inline __m256i unpack_block(const block_q5_0& b) {
    const __m256i sixteen = _mm256_set1_epi8(16);
    const __m256i hi = _mm256_and_si256(bits_to_bytes(b.qh), sixteen);
    return _mm256_sub_epi8(_mm256_or_si256(unpack_nibbles16(b.qs), hi), sixteen);
}

}  // namespace lokal::kernels::avx2
