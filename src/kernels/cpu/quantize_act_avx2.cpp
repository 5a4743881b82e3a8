// AVX2 activation quantizers: Q8_0, Q8_1 and Q8_K, bit-exact with quantize_row
// (tensor/quantize.cpp).
//
// Exactness: the block maximum is order-independent (max_ps(x, acc) skips NaNs like the reference's
// comparisons do); the scales are computed with the same scalar float expressions; products are
// the same IEEE multiplies; std::round (half away from zero) is rebuilt from truncation, and
// ggml's nearest_int uses the same magic-number add. Values are narrowed to int8 by keeping the
// low byte of the int32, which is what the reference's float -> int8 conversion does on x86
// (cvttss2si, then the low byte) for the non-finite products of degenerate blocks.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "base/fp16.h"
#include "kernels/cpu/kernel_rows.h"
#include "kernels/cpu/simd_avx2.h"
#include "tensor/quant_blocks.h"

namespace lokal::kernels {
namespace {

using namespace avx2;  // NOLINT(google-build-using-namespace): the helpers of this ISA

inline __m256 abs_ps(__m256 v) {
    return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v);
}

inline float hmax(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_extractf128_ps(v, 1), _mm256_castps256_ps128(v));
    m = _mm_max_ps(_mm_movehl_ps(m, m), m);
    m = _mm_max_ss(_mm_movehdup_ps(m), m);
    return _mm_cvtss_f32(m);
}

// std::round: ties away from zero. trunc(v) is exact and so is v - trunc(v).
inline __m256i round_away(__m256 v) {
    const __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __m256 frac = abs_ps(_mm256_sub_ps(v, t));
    const __m256 half = _mm256_cmp_ps(frac, _mm256_set1_ps(0.5f), _CMP_GE_OQ);
    const __m256 one = _mm256_or_ps(_mm256_set1_ps(1.0f), _mm256_and_ps(v, _mm256_set1_ps(-0.0f)));
    return _mm256_cvttps_epi32(_mm256_add_ps(t, _mm256_and_ps(half, one)));
}

// ggml's nearest_int (ties to even) on 8 lanes.
inline __m256i nearest_int(__m256 v) {
    const __m256i bits = _mm256_castps_si256(_mm256_add_ps(v, _mm256_set1_ps(12582912.f)));
    return _mm256_sub_epi32(_mm256_and_si256(bits, _mm256_set1_epi32(0x007fffff)),
                            _mm256_set1_epi32(0x00400000));
}

// The low bytes of 4 x 8 int32, in order.
inline __m256i low_bytes(__m256i a, __m256i b, __m256i c, __m256i d) {
    const __m256i m = _mm256_set1_epi32(0xFF);
    const __m256i ab = _mm256_packus_epi32(_mm256_and_si256(a, m), _mm256_and_si256(b, m));
    const __m256i cd = _mm256_packus_epi32(_mm256_and_si256(c, m), _mm256_and_si256(d, m));
    const __m256i bytes = _mm256_packus_epi16(ab, cd);
    return _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

// Largest |x| of 32 floats; NaNs are skipped.
inline float amax32(const float* x) {
    __m256 m = _mm256_setzero_ps();
    for (int k = 0; k < 4; ++k) m = _mm256_max_ps(abs_ps(_mm256_loadu_ps(x + 8 * k)), m);
    return hmax(m);
}

// One 32-block of quantize_row's Q8_0 / Q8_1 arithmetic; returns the sum of the quants.
inline int quant32(const float* x, float id, int8_t* qs) {
    const __m256 vid = _mm256_set1_ps(id);
    __m256i q[4];
    for (int k = 0; k < 4; ++k) q[k] = round_away(_mm256_mul_ps(_mm256_loadu_ps(x + 8 * k), vid));
    const __m256i bytes = low_bytes(q[0], q[1], q[2], q[3]);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(qs), bytes);
    // Sum of the stored (int8) quants: sign-extend back, as the reference sums y[i].qs[j].
    const __m256i lo = _mm256_cvtepi8_epi16(_mm256_castsi256_si128(bytes));
    const __m256i hi = _mm256_cvtepi8_epi16(_mm256_extracti128_si256(bytes, 1));
    const __m256i ones = _mm256_set1_epi16(1);
    return hsum_i32(_mm256_add_epi32(_mm256_madd_epi16(lo, ones), _mm256_madd_epi16(hi, ones)));
}

}  // namespace

void avx2_quantize_q8_0(const float* x, void* dst, int64_t n) {
    block_q8_0* y = static_cast<block_q8_0*>(dst);
    for (int64_t i = 0; i < n / kQK32; ++i, x += kQK32) {
        const float d = amax32(x) / 127;
        const float id = d ? 1.0f / d : 0.0f;
        y[i].d = fp32_to_fp16(d);
        quant32(x, id, y[i].qs);
    }
}

void avx2_quantize_q8_1(const float* x, void* dst, int64_t n) {
    block_q8_1* y = static_cast<block_q8_1*>(dst);
    for (int64_t i = 0; i < n / kQK32; ++i, x += kQK32) {
        const float d = amax32(x) / 127;
        const float id = d ? 1.0f / d : 0.0f;
        y[i].d = fp32_to_fp16(d);
        const int sum = quant32(x, id, y[i].qs);
        y[i].s = fp32_to_fp16(sum * d);
    }
}

void avx2_quantize_q8_K(const float* x, void* dst, int64_t n) {
    block_q8_K* y = static_cast<block_q8_K*>(dst);
    for (int64_t i = 0; i < n / kQKK; ++i, x += kQKK) {
        __m256 m = _mm256_setzero_ps();
        for (int k = 0; k < kQKK; k += 8) m = _mm256_max_ps(abs_ps(_mm256_loadu_ps(x + k)), m);
        const float amax = hmax(m);
        if (!amax) {
            std::memset(&y[i], 0, sizeof(block_q8_K));
            continue;
        }
        // The reference keeps the first element whose |x| is the maximum (its sign matters).
        float max = 0;
        const __m256 vamax = _mm256_set1_ps(amax);
        for (int k = 0; k < kQKK; k += 8) {
            const int hit = _mm256_movemask_ps(
                _mm256_cmp_ps(abs_ps(_mm256_loadu_ps(x + k)), vamax, _CMP_EQ_OQ));
            if (hit) {
                max = x[k + __builtin_ctz((unsigned)hit)];
                break;
            }
        }
        const float iscale = -127.f / max;
        const __m256 vis = _mm256_set1_ps(iscale);
        const __m256i cap = _mm256_set1_epi32(127);
        const __m256i bias = _mm256_set1_epi8((char)0x80);
        for (int k = 0; k < kQKK; k += 32) {
            __m256i q[4];
            for (int j = 0; j < 4; ++j) {
                q[j] = _mm256_min_epi32(
                    nearest_int(_mm256_mul_ps(vis, _mm256_loadu_ps(x + k + 8 * j))), cap);
            }
            const __m256i bytes = low_bytes(q[0], q[1], q[2], q[3]);
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[i].qs + k), bytes);
            // Block sums of 16: bias to unsigned, sum 8-byte groups, remove the bias.
            const __m256i sad =
                _mm256_sad_epu8(_mm256_xor_si256(bytes, bias), _mm256_setzero_si256());
            alignas(32) int64_t s[4];
            _mm256_store_si256(reinterpret_cast<__m256i*>(s), sad);
            y[i].bsums[k / 16] = (int16_t)(s[0] + s[1] - 16 * 128);
            y[i].bsums[k / 16 + 1] = (int16_t)(s[2] + s[3] - 16 * 128);
        }
        y[i].d = 1 / iscale;
    }
}

// Round to nearest even, as fp32_to_fp16; NaNs become the one quiet NaN it returns.
void avx2_quantize_f16(const float* x, void* vy, int64_t n) {
    auto* y = static_cast<uint16_t*>(vy);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 v = _mm256_loadu_ps(x + i);
        __m128i h = _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT);
        const int nan_lanes = _mm256_movemask_ps(_mm256_cmp_ps(v, v, _CMP_UNORD_Q));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(y + i), h);
        if (nan_lanes) {
            for (int l = 0; l < 8; ++l) {
                if (nan_lanes >> l & 1) y[i + l] = fp32_to_fp16(x[i + l]);
            }
        }
    }
    for (; i < n; ++i) y[i] = fp32_to_fp16(x[i]);
}

}  // namespace lokal::kernels
