// Inline AVX2 helpers shared by the *_avx2.cpp kernel files (include only from files compiled
// with -mavx2 -mfma -mf16c). Static: each ISA file keeps its own copies, so the linker can never
// hand an AVX2 file a copy that was compiled with AVX-512 flags.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

namespace lokal::kernels::avx2 {

// F16C conversion (exact, like fp16_to_fp32, but one instruction).
static inline float h2f(uint16_t h) {
    return _cvtsh_ss(h);
}

static inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline int hsum_i32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtsi128_si32(s);
}

static inline __m256i load256(const void* p) {
    return _mm256_loadu_si256(static_cast<const __m256i*>(p));
}

// 32 bytes of 4-bit pairs -> the 32 low nibbles then... (16 bytes in): low nibbles in the low
// 128 bits (elements 0..15), high nibbles in the high 128 bits (elements 16..31).
static inline __m256i unpack_nibbles16(const uint8_t* p) {
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m256i both = _mm256_set_m128i(_mm_srli_epi16(b, 4), b);
    return _mm256_and_si256(both, _mm256_set1_epi8(0x0F));
}

// Sum of x[i] * y[i] over 32 signed bytes, as 8 int32 lanes.
static inline __m256i dot_i8(__m256i x, __m256i y) {
    const __m256i ax = _mm256_sign_epi8(x, x);
    const __m256i sy = _mm256_sign_epi8(y, x);
    const __m256i p16 = _mm256_maddubs_epi16(ax, sy);
    return _mm256_madd_epi16(p16, _mm256_set1_epi16(1));
}

// Sum of u[i] * y[i] for unsigned u (< 128) and signed y, as 16 int16 pair sums.
static inline __m256i dot_u8_pairs(__m256i u, __m256i y) {
    return _mm256_maddubs_epi16(u, y);
}

// 32 bits -> 32 bytes, 0xFF where the bit is set (byte i for bit i).
static inline __m256i bits_to_bytes(const uint8_t* p) {
    uint32_t x;
    std::memcpy(&x, p, 4);
    const __m256i pick = _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202,
                                           0x0101010101010101, 0x0000000000000000);
    const __m256i bytes = _mm256_shuffle_epi8(_mm256_set1_epi32((int)x), pick);
    const __m256i bit = _mm256_set1_epi64x((int64_t)0x8040201008040201ULL);
    return _mm256_cmpeq_epi8(_mm256_and_si256(bytes, bit), bit);
}

}  // namespace lokal::kernels::avx2
