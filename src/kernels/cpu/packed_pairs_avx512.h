// Internal: what the AVX-512 kernels of the packed groups that work on pairs of groups share
// (packed_kquants_avx512.cpp, packed_iq4_avx512.cpp; packed_q32_avx512.cpp uses the IQ4 table). One
// 512-bit register holds the same 32 bytes of two neighbouring groups: lanes 0..7 are rows 8g..8g+7
// and lanes 8..15 rows 8g+8..8g+15. Include only from files built for AVX-512 (*_avx512.cpp).
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/cpu/kernel_rows.h"
#include "kernels/cpu/packed_tiles.h"
#include "tensor/quant_blocks.h"

namespace lokal::kernels::avx512_pairs {

using packed_tiles::ActRows;

// The same 32 bytes of two groups' blocks: group 0 in lanes 0..7, group 1 in lanes 8..15.
inline __m512i load_pair(const uint8_t* p0, const uint8_t* p1) {
    const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p0));
    const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p1));
    return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}

// 16 bytes of each group side by side.
inline __m256i load_pair128(const void* p0, const void* p1) {
    return _mm256_loadu2_m128i(reinterpret_cast<const __m128i*>(p1),
                               reinterpret_cast<const __m128i*>(p0));
}

// The 8 fp16 scales of each group as 16 floats.
inline __m512 load_f16_pair(const uint16_t* p0, const uint16_t* p1) {
    return _mm512_cvtph_ps(load_pair128(p0, p1));
}

// 4 activation bytes at p, repeated in every 32-bit lane.
inline __m512i bcast4(const int8_t* p) {
    int32_t v;
    std::memcpy(&v, p, 4);
    return _mm512_set1_epi32(v);
}

// Two adjacent int16 at p as one int32, repeated in every lane (for a madd against pairs).
inline __m512i bcast_pair16(const int16_t* p) {
    int32_t v;
    std::memcpy(&v, p, 4);
    return _mm512_set1_epi32(v);
}

// IQ4's levels (kIq4nlValues) + 128 as unsigned bytes for VPDPBUSD (v ^ 0x80 == v + 128 for
// int8), in every 128-bit lane for VPSHUFB.
inline __m512i shifted_iq4_table() {
    const __m128i t = _mm_loadu_si128(reinterpret_cast<const __m128i*>(kIq4nlValues));
    return _mm512_broadcast_i32x4(_mm_xor_si128(t, _mm_set1_epi8(static_cast<char>(0x80))));
}

// Row r's two scale bytes (sub-blocks 2k, 2k + 1) of both groups as one word per 32-bit lane.
inline __m512i scale_words(const void* p0, const void* p1) {
    return _mm512_cvtepu16_epi32(load_pair128(p0, p1));
}

// The float sums of kRn activation rows x 16 weight rows, kept in y itself between super-blocks:
// held in registers they crowd out the integer sums of the 8-row tiles, which then spill inside
// the inner loop.
template <int kRn>
class FloatSums {
  public:
    FloatSums(float* y, size_t ldy) : y_(y), ldy_(ldy) {
#pragma GCC unroll 8
        for (int j = 0; j < kRn; ++j) store(j, _mm512_setzero_ps());
    }
    __m512 load(int j) const {
        return _mm512_loadu_ps(y_ + j * ldy_);
    }
    void store(int j, __m512 v) const {
        _mm512_storeu_ps(y_ + j * ldy_, v);
    }

  private:
    float* y_;
    size_t ldy_;
};

template <typename Packed>
using PairTileFn = void (*)(int64_t, const Packed*, const Packed*, const ActRows&, float*, size_t);

// A PackedGemmFn body: each pair of groups against activation rows in tiles of 8 (8 rows x 16
// weight rows measured ~6% faster than 4 x 16 at batch 32), then of 4, then one by one; an odd
// last group goes to kAvx2 (AVX2's kernel). So does generation (one activation row): it streams
// the weights from memory, and there the AVX2 kernel measured faster (`lokal bench -p 0 -n 128`
// on 1B Q6_K: 59 tokens/s against 36 for two groups at a time).
template <typename Packed, PairTileFn<Packed> kTile8, PairTileFn<Packed> kTile4,
          PairTileFn<Packed> kOneFn, PackedGemm* kAvx2>
void gemm_pairs(int64_t cols, const uint8_t* w, size_t group_stride, int n_groups,
                const uint8_t* act, size_t act_stride, const uint8_t* info, size_t info_stride,
                int n_act, float* y, size_t ldy) {
    if (n_act == 1) {
        kAvx2(cols, w, group_stride, n_groups, act, act_stride, info, info_stride, n_act, y, ldy);
        return;
    }
    const int64_t nb = cols / kQKK;
    int g = 0;
    for (; g + 2 <= n_groups; g += 2) {
        const Packed* w0 = reinterpret_cast<const Packed*>(w + g * group_stride);
        const Packed* w1 = reinterpret_cast<const Packed*>(w + (g + 1) * group_stride);
        const auto rows_from = [&](int b) {
            return ActRows{act + b * act_stride, act_stride, info + b * info_stride, info_stride};
        };
        int b = 0;
        for (; b + 8 <= n_act; b += 8) kTile8(nb, w0, w1, rows_from(b), y + b * ldy + 8 * g, ldy);
        for (; b + 4 <= n_act; b += 4) kTile4(nb, w0, w1, rows_from(b), y + b * ldy + 8 * g, ldy);
        for (; b < n_act; ++b) kOneFn(nb, w0, w1, rows_from(b), y + b * ldy + 8 * g, ldy);
    }
    if (g < n_groups) {
        kAvx2(cols, w + g * group_stride, group_stride, 1, act, act_stride, info, info_stride,
              n_act, y + 8 * g, ldy);
    }
}

}  // namespace lokal::kernels::avx512_pairs
