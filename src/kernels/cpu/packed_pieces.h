// Internal: what the packing code and scalar references of every packed layout share
// (packed.cpp, packed_kquants.cpp, packed_q1_iq4.cpp): moving 4-byte pieces of 8 rows side by
// side and back, Q5's fifth bits regrouped, and the reference kernel driver.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "kernels/cpu/packed_layout.h"

namespace lokal::kernels::pieces {

// dst[32h + 4r + j] = row r's src[4h + j] for h < n_pieces: 4 bytes of each row side by side.
inline void interleave4(const uint8_t* const src[8], int n_pieces, uint8_t* dst) {
    for (int h = 0; h < n_pieces; ++h) {
        for (int r = 0; r < 8; ++r) std::memcpy(dst + 32 * h + 4 * r, src[r] + 4 * h, 4);
    }
}

// The exact inverse for row r.
inline void deinterleave4(const uint8_t* src, int r, int n_pieces, uint8_t* dst) {
    for (int h = 0; h < n_pieces; ++h) std::memcpy(dst + 4 * h, src + 32 * h + 4 * r, 4);
}

// Stored Q5_0 / Q5_1 blocks keep column c's fifth bit at bit c of 4 bytes (little-endian).
// Regrouped as Q5_0x8 keeps them (packed_layout.h): byte 4r + j, bit 2h = stored bit 4h + j,
// bit 2h + 1 = stored bit 16 + 4h + j.
inline void regroup_fifth_bits(const uint8_t stored[4], int r, uint8_t* qh) {
    uint32_t bits;
    std::memcpy(&bits, stored, 4);
    for (int j = 0; j < 4; ++j) {
        uint8_t b = 0;
        for (int h = 0; h < 4; ++h) {
            b |= (uint8_t)(((bits >> (4 * h + j)) & 1) << (2 * h));
            b |= (uint8_t)(((bits >> (16 + 4 * h + j)) & 1) << (2 * h + 1));
        }
        qh[4 * r + j] = b;
    }
}

inline void restore_fifth_bits(const uint8_t* qh, int r, uint8_t stored[4]) {
    uint32_t bits = 0;
    for (int j = 0; j < 4; ++j) {
        const uint8_t b = qh[4 * r + j];
        for (int h = 0; h < 4; ++h) {
            bits |= (uint32_t)((b >> (2 * h)) & 1) << (4 * h + j);
            bits |= (uint32_t)((b >> (2 * h + 1)) & 1) << (16 + 4 * h + j);
        }
    }
    std::memcpy(stored, &bits, 4);
}

// A scalar reference kernel (PackedGemmFn) from a layout's step: kStep returns row r's
// accumulator after one (super-)block: its exact integer dot product, then the float steps
// every kernel of the layout shares.
template <typename Packed, typename ActBlock, typename Info,
          float (*kStep)(float, const Packed&, int, const ActBlock&, const Info&)>
void ref_gemm(int64_t cols, const uint8_t* w, size_t group_stride, int n_groups, const uint8_t* act,
              size_t act_stride, const uint8_t* info, size_t info_stride, int n_act, float* y,
              size_t ldy) {
    const int64_t nb = cols / (int64_t)sizeof(ActBlock::qs);
    for (int g = 0; g < n_groups; ++g) {
        const auto* wg = reinterpret_cast<const Packed*>(w + g * group_stride);
        for (int b = 0; b < n_act; ++b) {
            const auto* a = reinterpret_cast<const ActBlock*>(act + b * act_stride);
            float acc[8] = {};
            for (int64_t ib = 0; ib < nb; ++ib) {
                Info ai{};  // layouts without side data (NoInfo): info may be null
                if constexpr (!std::is_same_v<Info, NoInfo>) {
                    ai = reinterpret_cast<const Info*>(info + b * info_stride)[ib];
                }
                for (int r = 0; r < 8; ++r) acc[r] = kStep(acc[r], wg[ib], r, a[ib], ai);
            }
            for (int r = 0; r < 8; ++r) y[b * ldy + 8 * g + r] = acc[r];
        }
    }
}

}  // namespace lokal::kernels::pieces
