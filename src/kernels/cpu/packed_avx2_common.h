// Internal: the small AVX2 helpers every packed-group kernel file shares (packed_avx2.cpp,
// packed_kquants_avx2.cpp, packed_q1_iq4_avx2.cpp). Include only from files compiled with the
// AVX2 flags. Static, as simd_avx2.h's: each file keeps its own copies, so the linker can never
// hand one file a copy compiled for another instruction set.
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>

// Loops over activation rows, weight loads and sub-blocks must unroll fully: their accumulators
// then live in registers instead of arrays on the stack.
#define LOKAL_UNROLL _Pragma("GCC unroll 8")

namespace lokal::kernels::avx2 {

// One 32-byte vector of assembled quants as packed_tiles::gemm_decoded keeps them (a vector of
// __m256i would drop the type's alignment attribute).
struct alignas(32) Vec256 {
    uint8_t bytes[32];
};

static inline void store_vec(Vec256* at, __m256i v) {
    _mm256_store_si256(reinterpret_cast<__m256i*>(at), v);
}

static inline __m256i load_vec(const Vec256* at) {
    return _mm256_load_si256(reinterpret_cast<const __m256i*>(at));
}

// Calls f(std::integral_constant<int, i>) for i < kN: loop indices that shift counts need as
// compile-time constants.
template <int kN, typename F>
static inline void for_const(const F& f) {
    [&]<int... kI>(std::integer_sequence<int, kI...>) {
        (f(std::integral_constant<int, kI>{}), ...);
    }
    (std::make_integer_sequence<int, kN>{});
}

// gemm_decoded's buffer for the K types: 64 vectors per super-block, vector h (< 8) of the load
// pair (a, b) at 8 (kB a + b) + h. decode_in_order writes it from quants(a_c, b_c, h), a < kA and
// b < kB as compile-time constants; KDecoded<kB> reads it back as the tiles' quants(ib, a, b, h).
constexpr int kKDecodedVectors = 64;

template <int kA, int kB, typename Quants>
static inline void decode_in_order(Vec256* out, const Quants& quants) {
    static_assert(8 * kA * kB == kKDecodedVectors);
    for_const<kA>([&](auto a_c) {
        for_const<kB>([&](auto b_c) {
            Vec256* at = out + 8 * (kB * decltype(a_c)::value + decltype(b_c)::value);
            LOKAL_UNROLL
            for (int h = 0; h < 8; ++h) store_vec(at + h, quants(a_c, b_c, h));
        });
    });
}

template <int kB>
struct KDecoded {
    const Vec256* decoded;
    __m256i operator()(int64_t ib, int a, int b, int h) const {
        return load_vec(decoded + ib * kKDecodedVectors + 8 * (kB * a + b) + h);
    }
};

// 4 activation bytes at p, repeated in every 32-bit lane.
static inline __m256i bcast4(const int8_t* p) {
    int32_t v;
    std::memcpy(&v, p, 4);
    return _mm256_set1_epi32(v);
}

static inline __m256 load_f16x8(const uint16_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

// From 16 bytes holding pairs (a_r, b_r) for rows r < 8: (a_r, a_r) (odd = false) or (b_r, b_r)
// in bytes 2r, 2r + 1, ready to widen for a madd against row r's two 16-bit partial sums.
static inline __m128i pick_pair_half(bool odd) {
    return odd ? _mm_setr_epi8(1, 1, 3, 3, 5, 5, 7, 7, 9, 9, 11, 11, 13, 13, 15, 15)
               : _mm_setr_epi8(0, 0, 2, 2, 4, 4, 6, 6, 8, 8, 10, 10, 12, 12, 14, 14);
}

// Moves each byte's bit `from` to bit `to` (the bits around it are masked off afterwards; 16-bit
// shifts carry nothing into the bit kept).
template <int from, int to>
static inline __m256i move_bit(__m256i x) {
    if constexpr (from < to) return _mm256_slli_epi16(x, to - from);
    if constexpr (from > to) return _mm256_srli_epi16(x, from - to);
    return x;
}

// Generation (one activation row) streams every weight once per token, and the unpacking work per
// byte keeps fewer loads in flight than the memory system can serve: asking for the lines
// kPrefetchAhead bytes ahead of the block being read lifts 1B Q4_0 generation by about 12%
// (`lokal bench -p 0 -n 64`, 1.5-2.5 KiB ahead were best). Prompt tiles are compute-bound and
// do not prefetch.
constexpr size_t kPrefetchAhead = 2048;

template <int kRn, typename Block>
static inline void prefetch_ahead(const Block* block) {
    if constexpr (kRn == 1) {
        const char* p = reinterpret_cast<const char*>(block) + kPrefetchAhead;
        for (size_t off = 0; off < sizeof(Block); off += 64) _mm_prefetch(p + off, _MM_HINT_T0);
    }
}

// Calls step(h) for h < n. With one activation row the loop unrolls fully; with a four-row
// tile it stays a loop (unrolled by two): fully unrolled, GCC computes products of several
// iterations ahead and spills them and the accumulators to the stack.
template <int kRn, int n, typename Step>
static inline void over_weight_vectors(const Step& step) {
    if constexpr (kRn == 1) {
        LOKAL_UNROLL
        for (int h = 0; h < n; ++h) step(h);
    } else {
#pragma GCC unroll 2
        for (int h = 0; h < n; ++h) step(h);
    }
}

// The 5-bit quants 0..31 of load kL of a Q5_0x8 or Q5_1x8 block (qs and the fifth-bit vector qh):
// lo holds elements 4 kL + j (low nibbles, fifth bits 2 kL), hi elements 16 + 4 kL + j (high
// nibbles, fifth bits 2 kL + 1), j < 4, of every row.
template <int kL>
static inline void q5_32_quants(const uint8_t* qs, __m256i qh, __m256i& lo, __m256i& hi) {
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    const __m256i bit4 = _mm256_set1_epi8(0x10);
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs + 32 * kL));
    lo = _mm256_or_si256(_mm256_and_si256(v, m4), _mm256_and_si256(move_bit<2 * kL, 4>(qh), bit4));
    hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(v, 4), m4),
                         _mm256_and_si256(move_bit<2 * kL + 1, 4>(qh), bit4));
}

// The 8 vectors of q5_32_quants for a block, lo and hi of load L at 2L and 2L + 1, in
// packed_tiles::gemm_decoded's buffer.
constexpr int kQ5_32DecodedVectors = 8;

template <typename Block>
static inline void decode_q5_32(const Block& b, Vec256* out) {
    const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qh));
    [&]<int... kL>(std::integer_sequence<int, kL...>) {
        __m256i lo, hi;
        ((q5_32_quants<kL>(b.qs, qh, lo, hi), store_vec(out + 2 * kL, lo),
          store_vec(out + 2 * kL + 1, hi)),
         ...);
    }
    (std::make_integer_sequence<int, 4>{});
}

// The quants(ib, l_c, lo, hi) of the Q5_0 and Q5_1 tiles: q5_32_quants<l_c> of block ib, from
// the packed blocks w or from gemm_decoded's buffer.
template <typename Block>
struct Q5_32FromBlocks {
    const Block* w;
    template <typename L>
    void operator()(int64_t ib, L, __m256i& lo, __m256i& hi) const {
        q5_32_quants<L::value>(
            w[ib].qs, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[ib].qh)), lo, hi);
    }
};

struct Q5_32FromDecoded {
    const Vec256* decoded;
    template <typename L>
    void operator()(int64_t ib, L, __m256i& lo, __m256i& hi) const {
        const Vec256* at = decoded + ib * kQ5_32DecodedVectors + 2 * L::value;
        lo = load_vec(at);
        hi = load_vec(at + 1);
    }
};

// One 32-column block of 4-bit quants laid out as Q4_0x8's qs (4 loads, low nibbles columns
// 4h + j, high nibbles 16 + 4h + j) against kRn activation rows' 32 int8 quants q[j]: s[j]'s
// lane r gets row r's dot product as 16-bit pair sums (at most 4 * 2 * 15 * 128: no overflow).
template <int kRn>
static inline void nibble_block_sums(const uint8_t* qs, const int8_t* const* q, __m256i* s) {
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    LOKAL_UNROLL
    for (int j = 0; j < kRn; ++j) s[j] = _mm256_setzero_si256();
    over_weight_vectors<kRn, 4>([&](int h) {
        const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs + 32 * h));
        const __m256i lo = _mm256_and_si256(v, m4);
        const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
        LOKAL_UNROLL
        for (int j = 0; j < kRn; ++j) {
            const __m256i t = _mm256_add_epi16(_mm256_maddubs_epi16(lo, bcast4(q[j] + 4 * h)),
                                               _mm256_maddubs_epi16(hi, bcast4(q[j] + 16 + 4 * h)));
            s[j] = _mm256_add_epi16(s[j], t);
        }
    });
}

}  // namespace lokal::kernels::avx2
