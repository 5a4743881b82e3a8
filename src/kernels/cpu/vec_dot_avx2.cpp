// AVX2 + FMA + F16C dot products (this file is compiled with -mavx2 -mfma -mf16c and only called
// when the CPU has them). Integer block sums are exact, as in the reference; only the order of
// the float accumulation differs. vec_dot_test.cpp checks every kernel against kernels_ref().
#include <immintrin.h>

#include <cstring>

#include "base/fp16.h"
#include "kernels/cpu/gemm_tiles.h"
#include "kernels/cpu/kernel_rows.h"
#include "kernels/cpu/simd_avx2.h"
#include "kernels/cpu/unpack_q8_avx2.h"
#include "tensor/quant_blocks.h"

namespace lokal::kernels {
namespace {

using namespace avx2;  // NOLINT(google-build-using-namespace): the helpers of this ISA

float dot_f32(int64_t n, const void* wv, const void* av) {
    const float* w = static_cast<const float*>(wv);
    const float* a = static_cast<const float*>(av);
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    __m256 acc2 = _mm256_setzero_ps(), acc3 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i), _mm256_loadu_ps(a + i), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i + 8), _mm256_loadu_ps(a + i + 8), acc1);
        acc2 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i + 16), _mm256_loadu_ps(a + i + 16), acc2);
        acc3 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i + 24), _mm256_loadu_ps(a + i + 24), acc3);
    }
    for (; i + 8 <= n; i += 8) {
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i), _mm256_loadu_ps(a + i), acc0);
    }
    float sum = hsum(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
    for (; i < n; ++i) sum += w[i] * a[i];
    return sum;
}

inline __m256 load_f16x8(const uint16_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

float dot_f16(int64_t n, const void* wv, const void* av) {
    const uint16_t* w = static_cast<const uint16_t*>(wv);
    const uint16_t* a = static_cast<const uint16_t*>(av);
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    __m256 acc2 = _mm256_setzero_ps(), acc3 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        acc0 = _mm256_fmadd_ps(load_f16x8(w + i), load_f16x8(a + i), acc0);
        acc1 = _mm256_fmadd_ps(load_f16x8(w + i + 8), load_f16x8(a + i + 8), acc1);
        acc2 = _mm256_fmadd_ps(load_f16x8(w + i + 16), load_f16x8(a + i + 16), acc2);
        acc3 = _mm256_fmadd_ps(load_f16x8(w + i + 24), load_f16x8(a + i + 24), acc3);
    }
    for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(load_f16x8(w + i), load_f16x8(a + i), acc0);
    float sum = hsum(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
    for (; i < n; ++i) sum += h2f(w[i]) * h2f(a[i]);
    return sum;
}

inline __m256 load_bf16x8(const uint16_t* p) {
    const __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
}

float dot_bf16(int64_t n, const void* wv, const void* av) {
    const uint16_t* w = static_cast<const uint16_t*>(wv);
    const uint16_t* a = static_cast<const uint16_t*>(av);
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        acc0 = _mm256_fmadd_ps(load_bf16x8(w + i), load_bf16x8(a + i), acc0);
        acc1 = _mm256_fmadd_ps(load_bf16x8(w + i + 8), load_bf16x8(a + i + 8), acc1);
    }
    float sum = hsum(_mm256_add_ps(acc0, acc1));
    for (; i < n; ++i) sum += bf16_to_fp32(w[i]) * bf16_to_fp32(a[i]);
    return sum;
}

float dot_q8_0(int64_t n, const void* wv, const void* av) {
    const block_q8_0* w = static_cast<const block_q8_0*>(wv);
    const block_q8_0* a = static_cast<const block_q8_0*>(av);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t ib = 0; ib < n / kQK32; ++ib) {
        const __m256i s = dot_i8(load256(w[ib].qs), load256(a[ib].qs));
        const __m256 d = _mm256_set1_ps(h2f(w[ib].d) * h2f(a[ib].d));
        acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(s), acc);
    }
    return hsum(acc);
}

float dot_q4_0(int64_t n, const void* wv, const void* av) {
    const block_q4_0* w = static_cast<const block_q4_0*>(wv);
    const block_q8_0* a = static_cast<const block_q8_0*>(av);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t ib = 0; ib < n / kQK32; ++ib) {
        const __m256i q = unpack_block(w[ib]);
        const __m256i s = dot_i8(q, load256(a[ib].qs));
        const __m256 d = _mm256_set1_ps(h2f(w[ib].d) * h2f(a[ib].d));
        acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(s), acc);
    }
    return hsum(acc);
}

float dot_q5_0(int64_t n, const void* wv, const void* av) {
    const block_q5_0* w = static_cast<const block_q5_0*>(wv);
    const block_q8_0* a = static_cast<const block_q8_0*>(av);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t ib = 0; ib < n / kQK32; ++ib) {
        const __m256i q = unpack_block(w[ib]);
        const __m256i s = dot_i8(q, load256(a[ib].qs));
        const __m256 d = _mm256_set1_ps(h2f(w[ib].d) * h2f(a[ib].d));
        acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(s), acc);
    }
    return hsum(acc);
}

float dot_iq4_nl(int64_t n, const void* wv, const void* av) {
    const block_iq4_nl* w = static_cast<const block_iq4_nl*>(wv);
    const block_q8_0* a = static_cast<const block_q8_0*>(av);
    const __m128i lut128 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(kIq4nlValues));
    const __m256i lut = _mm256_set_m128i(lut128, lut128);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t ib = 0; ib < n / kQK32; ++ib) {
        const __m256i q = _mm256_shuffle_epi8(lut, unpack_nibbles16(w[ib].qs));
        const __m256i s = dot_i8(q, load256(a[ib].qs));
        const __m256 d = _mm256_set1_ps(h2f(w[ib].d) * h2f(a[ib].d));
        acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(s), acc);
    }
    return hsum(acc);
}

// Sum over the 16 bsums of bsums[j] * mins[j / 2].

// The eight 6-bit scales and mins packed in a q4_K/q5_K block's 12 bytes, one byte each,
// decoded a 32-bit word at a time (the same values get_scale_min_k4 gives one by one).
struct ScalesMinsK4 {
    uint64_t scales, mins;
};
inline ScalesMinsK4 unpack_scales_k4(const uint8_t* q) {
    uint32_t s0, s1, s2;
    std::memcpy(&s0, q, 4);
    std::memcpy(&s1, q + 4, 4);
    std::memcpy(&s2, q + 8, 4);
    const uint32_t sc_lo = s0 & 0x3F3F3F3F, mn_lo = s1 & 0x3F3F3F3F;
    const uint32_t sc_hi = (s2 & 0x0F0F0F0F) | (((s0 >> 6) & 0x03030303) << 4);
    const uint32_t mn_hi = ((s2 >> 4) & 0x0F0F0F0F) | (((s1 >> 6) & 0x03030303) << 4);
    return {sc_lo | (uint64_t)sc_hi << 32, mn_lo | (uint64_t)mn_hi << 32};
}

// The eight scales as int16 in both 128-bit halves, for broadcast_scale.
inline __m256i scales_i16(uint64_t scales) {
    return _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(_mm_cvtsi64_si128((int64_t)scales)));
}
// Scale k of scales_i16 in all 16 int16 lanes (one shuffle instead of a scalar broadcast).
inline __m256i broadcast_scale(__m256i sc16, int k) {
    return _mm256_shuffle_epi8(sc16, _mm256_set1_epi16((int16_t)((2 * k + 1) << 8 | 2 * k)));
}

// sum_j mins[j] * (bsums[2j] + bsums[2j+1]): the q8_K block sums meet each sub-block's min.
inline int mins_dot_bsums(const int16_t* bsums, uint64_t mins) {
    const __m256i b = load256(bsums);
    const __m128i m8 = _mm_cvtsi64_si128((int64_t)mins);
    const __m256i m16 = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(m8, m8));  // each min twice
    return hsum_i32(_mm256_madd_epi16(b, m16));
}

// q4_K (kFive = false) and q5_K.
template <bool kFive>
float dot_q45_K(int64_t n, const void* wv, const void* av) {
    using Block = std::conditional_t<kFive, block_q5_K, block_q4_K>;
    const Block* w = static_cast<const Block*>(wv);
    const block_q8_K* a = static_cast<const block_q8_K*>(av);
    const __m256i low4 = _mm256_set1_epi8(0x0F);
    const __m256i one8 = _mm256_set1_epi8(1);
    __m256 acc = _mm256_setzero_ps();
    float acc_min = 0;
    for (int64_t i = 0; i < n / kQKK; ++i) {
        const ScalesMinsK4 sm = unpack_scales_k4(w[i].scales);
        const int summ = mins_dot_bsums(a[i].bsums, sm.mins);
        const __m256i sc16 = scales_i16(sm.scales);
        __m256i qh;
        if constexpr (kFive) qh = load256(w[i].qh);
        __m256i sumi = _mm256_setzero_si256();
        const int8_t* q8 = a[i].qs;
        for (int c = 0; c < 4; ++c, q8 += 64) {
            const __m256i q = load256(w[i].qs + 32 * c);
            __m256i lo = _mm256_and_si256(q, low4);
            __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), low4);
            if constexpr (kFive) {
                const __m256i hlo = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * c), one8);
                const __m256i hhi = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * c + 1), one8);
                lo = _mm256_or_si256(lo, _mm256_slli_epi16(hlo, 4));
                hi = _mm256_or_si256(hi, _mm256_slli_epi16(hhi, 4));
            }
            const __m256i plo = dot_u8_pairs(lo, load256(q8));
            const __m256i phi = dot_u8_pairs(hi, load256(q8 + 32));
            sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(plo, broadcast_scale(sc16, 2 * c)));
            sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(phi, broadcast_scale(sc16, 2 * c + 1)));
        }
        const __m256 d = _mm256_set1_ps(h2f(w[i].d) * a[i].d);
        acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(sumi), acc);
        acc_min += h2f(w[i].dmin) * a[i].d * summ;
    }
    return hsum(acc) - acc_min;
}

// One half (128 values) of a q6_K block as four vectors of unsigned 6-bit values (0..63).
inline void unpack_q6_K_half(const block_q6_K& b, int half, __m256i q[4]) {
    const __m256i low4 = _mm256_set1_epi8(0x0F);
    const __m256i two = _mm256_set1_epi8(3);
    const __m256i ql0 = load256(b.ql + 64 * half);
    const __m256i ql1 = load256(b.ql + 64 * half + 32);
    const __m256i qh = load256(b.qh + 32 * half);
    q[0] = _mm256_or_si256(_mm256_and_si256(ql0, low4),
                           _mm256_slli_epi16(_mm256_and_si256(qh, two), 4));
    q[1] = _mm256_or_si256(_mm256_and_si256(ql1, low4),
                           _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), two), 4));
    q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), low4),
                           _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), two), 4));
    q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), low4),
                           _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), two), 4));
}

float dot_q6_K(int64_t n, const void* wv, const void* av) {
    const block_q6_K* w = static_cast<const block_q6_K*>(wv);
    const block_q8_K* a = static_cast<const block_q8_K*>(av);
    const __m256i m32 = _mm256_set1_epi8(32);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / kQKK; ++i) {
        __m256i sumi = _mm256_setzero_si256();
        const int8_t* q8 = a[i].qs;
        const int8_t* sc = w[i].scales;
        for (int half = 0; half < 2; ++half) {
            __m256i q[4];
            unpack_q6_K_half(w[i], half, q);
            for (int k = 0; k < 4; ++k, q8 += 32, sc += 2) {
                const __m256i y = load256(q8);
                // sum q8 * (q - 32) = sum q8 * q - 32 * sum q8, in int16 pair sums.
                const __m256i p = _mm256_sub_epi16(dot_u8_pairs(q[k], y), dot_u8_pairs(m32, y));
                const __m256i scale =
                    _mm256_set_m128i(_mm_set1_epi16(sc[1]), _mm_set1_epi16(sc[0]));
                sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, scale));
            }
        }
        const __m256 d = _mm256_set1_ps(h2f(w[i].d) * a[i].d);
        acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(sumi), acc);
    }
    return hsum(acc);
}

// q4_1 / q5_1 against q8_1: sum d*da*q*a + m*s, with q unsigned so maddubs takes it directly.
template <bool kFive>
float dot_q51_1(int64_t n, const void* wv, const void* av) {
    using Block = std::conditional_t<kFive, block_q5_1, block_q4_1>;
    const Block* w = static_cast<const Block*>(wv);
    const block_q8_1* a = static_cast<const block_q8_1*>(av);
    const __m256i ones16 = _mm256_set1_epi16(1);
    __m256 acc = _mm256_setzero_ps();
    float acc_m = 0;
    for (int64_t ib = 0; ib < n / kQK32; ++ib) {
        __m256i q = unpack_nibbles16(w[ib].qs);
        if constexpr (kFive) {
            q = _mm256_or_si256(q, _mm256_and_si256(bits_to_bytes(w[ib].qh), _mm256_set1_epi8(16)));
        }
        const __m256i s = _mm256_madd_epi16(dot_u8_pairs(q, load256(a[ib].qs)), ones16);
        const __m256 d = _mm256_set1_ps(h2f(w[ib].d) * h2f(a[ib].d));
        acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(s), acc);
        acc_m += h2f(w[ib].m) * h2f(a[ib].s);
    }
    return hsum(acc) + acc_m;
}

// Two sub-block scales (for the low and high 128-bit lanes) as int16 multipliers for madd.
inline __m256i scale_pair(int lo, int hi) {
    return _mm256_set_m128i(_mm_set1_epi16((int16_t)hi), _mm_set1_epi16((int16_t)lo));
}

float dot_q2_K(int64_t n, const void* wv, const void* av) {
    const block_q2_K* w = static_cast<const block_q2_K*>(wv);
    const block_q8_K* a = static_cast<const block_q8_K*>(av);
    const __m256i three = _mm256_set1_epi8(3);
    __m256 acc = _mm256_setzero_ps();
    float acc_min = 0;
    for (int64_t i = 0; i < n / kQKK; ++i) {
        const uint8_t* sc = w[i].scales;
        // Mins (high nibbles) against the 16 block sums.
        const __m128i sc8 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(sc));
        const __m256i mins16 =
            _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(sc8, 4), _mm_set1_epi8(0x0F)));
        const int summs = hsum_i32(_mm256_madd_epi16(load256(a[i].bsums), mins16));
        __m256i sumi = _mm256_setzero_si256();
        const int8_t* q8 = a[i].qs;
        int is = 0;
        for (int half = 0; half < 2; ++half) {
            const __m256i q2 = load256(w[i].qs + 32 * half);
            for (int shift = 0; shift < 8; shift += 2, q8 += 32, is += 2) {
                const __m256i q = _mm256_and_si256(_mm256_srli_epi16(q2, shift), three);
                const __m256i p = dot_u8_pairs(q, load256(q8));
                sumi = _mm256_add_epi32(
                    sumi, _mm256_madd_epi16(p, scale_pair(sc[is] & 0xF, sc[is + 1] & 0xF)));
            }
        }
        const float dall = a[i].d * h2f(w[i].d);
        const float dmin = a[i].d * h2f(w[i].dmin);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(dall), _mm256_cvtepi32_ps(sumi), acc);
        acc_min += dmin * summs;
    }
    return hsum(acc) - acc_min;
}

// unpack_q3_K_scales in one go: low nibbles from bytes 0..7 (low then high nibbles), 2 high bits
// of scale j from byte 8 + j % 4 at bit 2 * (j / 4).
inline void unpack_q3_K_scales_avx2(const uint8_t* packed, int8_t* out) {
    uint32_t tail;
    std::memcpy(&tail, packed + 8, 4);
    const __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(packed));
    const __m128i lo =
        _mm_and_si128(_mm_unpacklo_epi64(b, _mm_srli_epi16(b, 4)), _mm_set1_epi8(0x0F));
    const __m128i hi = _mm_and_si128(
        _mm_srlv_epi32(_mm_set1_epi32((int)tail), _mm_setr_epi32(0, 2, 4, 6)), _mm_set1_epi8(3));
    const __m128i sc = _mm_sub_epi8(_mm_or_si128(lo, _mm_slli_epi16(hi, 4)), _mm_set1_epi8(32));
    _mm_store_si128(reinterpret_cast<__m128i*>(out), sc);
}

float dot_q3_K(int64_t n, const void* wv, const void* av) {
    const block_q3_K* w = static_cast<const block_q3_K*>(wv);
    const block_q8_K* a = static_cast<const block_q8_K*>(av);
    const __m256i three = _mm256_set1_epi8(3);
    const __m256i one = _mm256_set1_epi8(1);
    const __m256i four = _mm256_set1_epi8(4);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / kQKK; ++i) {
        alignas(16) int8_t sc[16];
        unpack_q3_K_scales_avx2(w[i].scales, sc);
        const __m256i hm = load256(w[i].hmask);
        __m256i sumi = _mm256_setzero_si256();
        const int8_t* q8 = a[i].qs;
        int is = 0;
        for (int half = 0; half < 2; ++half) {
            const __m256i q2 = load256(w[i].qs + 32 * half);
            for (int g = 0; g < 4; ++g, q8 += 32, is += 2) {
                // Unsigned level 0..7 = low 2 bits + 4 * high bit; the value is level - 4.
                const __m256i lo = _mm256_and_si256(_mm256_srli_epi16(q2, 2 * g), three);
                const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(hm, 4 * half + g), one);
                const __m256i q = _mm256_or_si256(lo, _mm256_slli_epi16(hi, 2));
                const __m256i y = load256(q8);
                const __m256i p = _mm256_sub_epi16(dot_u8_pairs(q, y), dot_u8_pairs(four, y));
                sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, scale_pair(sc[is], sc[is + 1])));
            }
        }
        const __m256 d = _mm256_set1_ps(h2f(w[i].d) * a[i].d);
        acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(sumi), acc);
    }
    return hsum(acc);
}

float dot_iq4_xs(int64_t n, const void* wv, const void* av) {
    const block_iq4_xs* w = static_cast<const block_iq4_xs*>(wv);
    const block_q8_K* a = static_cast<const block_q8_K*>(av);
    const __m128i lut128 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(kIq4nlValues));
    const __m256i lut = _mm256_set_m128i(lut128, lut128);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / kQKK; ++i) {
        __m256i sumi = _mm256_setzero_si256();
        const int8_t* q8 = a[i].qs;
        for (int ib = 0; ib < 8; ++ib, q8 += 32) {
            const int ls = ((w[i].scales_l[ib / 2] >> 4 * (ib % 2)) & 0xF) |
                           (((w[i].scales_h >> 2 * ib) & 3) << 4);
            const __m256i q = _mm256_shuffle_epi8(lut, unpack_nibbles16(w[i].qs + 16 * ib));
            const __m256i y = load256(q8);
            const __m256i p16 =
                _mm256_maddubs_epi16(_mm256_sign_epi8(q, q), _mm256_sign_epi8(y, q));
            sumi = _mm256_add_epi32(sumi,
                                    _mm256_madd_epi16(p16, _mm256_set1_epi16((int16_t)(ls - 32))));
        }
        const __m256 d = _mm256_set1_ps(h2f(w[i].d) * a[i].d);
        acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(sumi), acc);
    }
    return hsum(acc);
}

// Same per-block arithmetic as the single-row kernels above, so results are identical.
template <typename Block>
void dot_x4_q8_0(int64_t n, const void* wv, const void* const av[4], float out[4]) {
    const Block* w = static_cast<const Block*>(wv);
    const block_q8_0* a[4];
    for (int r = 0; r < 4; ++r) a[r] = static_cast<const block_q8_0*>(av[r]);
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                     _mm256_setzero_ps()};
    for (int64_t ib = 0; ib < n / kQK32; ++ib) {
        const __m256i q = unpack_block(w[ib]);
        const __m256i aq = _mm256_sign_epi8(q, q);
        const float dw = h2f(w[ib].d);
        for (int r = 0; r < 4; ++r) {
            const __m256i sy = _mm256_sign_epi8(load256(a[r][ib].qs), q);
            const __m256i s = _mm256_madd_epi16(_mm256_maddubs_epi16(aq, sy), _mm256_set1_epi16(1));
            const __m256 d = _mm256_set1_ps(dw * h2f(a[r][ib].d));
            acc[r] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(s), acc[r]);
        }
    }
    for (int r = 0; r < 4; ++r) out[r] = hsum(acc[r]);
}

// Four-row q4_K / q5_K: scales, mins and unpacked quants computed once per block; the per-row
// arithmetic is exactly dot_q45_K's.
template <bool kFive>
void dot_x4_q45_K(int64_t n, const void* wv, const void* const av[4], float out[4]) {
    using Block = std::conditional_t<kFive, block_q5_K, block_q4_K>;
    const Block* w = static_cast<const Block*>(wv);
    const block_q8_K* a[4];
    for (int r = 0; r < 4; ++r) a[r] = static_cast<const block_q8_K*>(av[r]);
    const __m256i low4 = _mm256_set1_epi8(0x0F);
    const __m256i one8 = _mm256_set1_epi8(1);
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                     _mm256_setzero_ps()};
    float acc_min[4] = {0, 0, 0, 0};
    for (int64_t i = 0; i < n / kQKK; ++i) {
        const ScalesMinsK4 sm = unpack_scales_k4(w[i].scales);
        const __m256i sc16 = scales_i16(sm.scales);
        __m256i qh;
        if constexpr (kFive) qh = load256(w[i].qh);
        __m256i sumi[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(),
                           _mm256_setzero_si256()};
        for (int c = 0; c < 4; ++c) {
            const __m256i q = load256(w[i].qs + 32 * c);
            __m256i lo = _mm256_and_si256(q, low4);
            __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), low4);
            if constexpr (kFive) {
                const __m256i hlo = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * c), one8);
                const __m256i hhi = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * c + 1), one8);
                lo = _mm256_or_si256(lo, _mm256_slli_epi16(hlo, 4));
                hi = _mm256_or_si256(hi, _mm256_slli_epi16(hhi, 4));
            }
            const __m256i slo = broadcast_scale(sc16, 2 * c);
            const __m256i shi = broadcast_scale(sc16, 2 * c + 1);
            for (int r = 0; r < 4; ++r) {
                const int8_t* q8 = a[r][i].qs + 64 * c;
                const __m256i plo = dot_u8_pairs(lo, load256(q8));
                const __m256i phi = dot_u8_pairs(hi, load256(q8 + 32));
                sumi[r] = _mm256_add_epi32(sumi[r], _mm256_madd_epi16(plo, slo));
                sumi[r] = _mm256_add_epi32(sumi[r], _mm256_madd_epi16(phi, shi));
            }
        }
        for (int r = 0; r < 4; ++r) {
            const int summ = mins_dot_bsums(a[r][i].bsums, sm.mins);
            const __m256 d = _mm256_set1_ps(h2f(w[i].d) * a[r][i].d);
            acc[r] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(sumi[r]), acc[r]);
            acc_min[r] += h2f(w[i].dmin) * a[r][i].d * summ;
        }
    }
    for (int r = 0; r < 4; ++r) out[r] = hsum(acc[r]) - acc_min[r];
}

// Four-row q6_K with dot_q6_K's per-row arithmetic.
void dot_x4_q6_K(int64_t n, const void* wv, const void* const av[4], float out[4]) {
    const block_q6_K* w = static_cast<const block_q6_K*>(wv);
    const block_q8_K* a[4];
    for (int r = 0; r < 4; ++r) a[r] = static_cast<const block_q8_K*>(av[r]);
    const __m256i m32 = _mm256_set1_epi8(32);
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                     _mm256_setzero_ps()};
    for (int64_t i = 0; i < n / kQKK; ++i) {
        __m256i sumi[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(),
                           _mm256_setzero_si256()};
        const int8_t* sc = w[i].scales;
        int off = 0;
        for (int half = 0; half < 2; ++half) {
            __m256i q[4];
            unpack_q6_K_half(w[i], half, q);
            for (int k = 0; k < 4; ++k, off += 32, sc += 2) {
                const __m256i scale =
                    _mm256_set_m128i(_mm_set1_epi16(sc[1]), _mm_set1_epi16(sc[0]));
                for (int r = 0; r < 4; ++r) {
                    const __m256i y = load256(a[r][i].qs + off);
                    const __m256i p = _mm256_sub_epi16(dot_u8_pairs(q[k], y), dot_u8_pairs(m32, y));
                    sumi[r] = _mm256_add_epi32(sumi[r], _mm256_madd_epi16(p, scale));
                }
            }
        }
        for (int r = 0; r < 4; ++r) {
            const __m256 d = _mm256_set1_ps(h2f(w[i].d) * a[r][i].d);
            acc[r] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(sumi[r]), acc[r]);
        }
    }
    for (int r = 0; r < 4; ++r) out[r] = hsum(acc[r]);
}

// Q8_0, Q4_0 and Q5_0 multiply with the register-blocked gemm of gemm_q8_avx2.cpp; the types
// only activations take (Q8_1, Q8_K) have just their quantizer.
constexpr KernelRow kRows[] = {
    // type, vec_dot, vec_dot_x4, gemm, packed_gemm, quantize_act
    {DType::F32, dot_f32, nullptr, gemm_tiled<dot_f32, nullptr>},
    {DType::F16, dot_f16, nullptr, gemm_tiled<dot_f16, nullptr>, avx2_packed_f16,
     avx2_quantize_f16},
    {DType::BF16, dot_bf16, nullptr, gemm_tiled<dot_bf16, nullptr>, avx2_packed_bf16},
    {DType::Q4_0, dot_q4_0, dot_x4_q8_0<block_q4_0>, avx2_gemm_q8<block_q4_0>, avx2_packed_q4_0},
    {DType::Q4_1, dot_q51_1<false>, nullptr, gemm_tiled<dot_q51_1<false>, nullptr>,
     avx2_packed_q4_1},
    {DType::Q5_0, dot_q5_0, dot_x4_q8_0<block_q5_0>, avx2_gemm_q8<block_q5_0>, avx2_packed_q5_0},
    {DType::Q5_1, dot_q51_1<true>, nullptr, gemm_tiled<dot_q51_1<true>, nullptr>, avx2_packed_q5_1},
    {DType::Q8_0, dot_q8_0, dot_x4_q8_0<block_q8_0>, avx2_gemm_q8<block_q8_0>, avx2_packed_q8_0,
     avx2_quantize_q8_0},
    {DType::Q8_1, nullptr, nullptr, nullptr, nullptr, avx2_quantize_q8_1},
    {DType::Q2_K, dot_q2_K, nullptr, gemm_tiled<dot_q2_K, nullptr>, avx2_packed_q2_K},
    {DType::Q3_K, dot_q3_K, nullptr, gemm_tiled<dot_q3_K, nullptr>, avx2_packed_q3_K},
    {DType::Q4_K, dot_q45_K<false>, dot_x4_q45_K<false>,
     gemm_tiled<dot_q45_K<false>, dot_x4_q45_K<false>>, avx2_packed_q4_K},
    {DType::Q5_K, dot_q45_K<true>, dot_x4_q45_K<true>,
     gemm_tiled<dot_q45_K<true>, dot_x4_q45_K<true>>, avx2_packed_q5_K},
    {DType::Q6_K, dot_q6_K, dot_x4_q6_K, gemm_tiled<dot_q6_K, dot_x4_q6_K>, avx2_packed_q6_K},
    {DType::Q8_K, nullptr, nullptr, nullptr, nullptr, avx2_quantize_q8_K},
    {DType::IQ4_NL, dot_iq4_nl, nullptr, gemm_tiled<dot_iq4_nl, nullptr>, avx2_packed_iq4_nl},
    {DType::IQ4_XS, dot_iq4_xs, nullptr, gemm_tiled<dot_iq4_xs, nullptr>, avx2_packed_iq4_xs},
};

}  // namespace

KernelRows avx2_rows() {
    return kRows;
}

}  // namespace lokal::kernels
