// Internal: the AMX prompt-processing kernel of the packed 32-column types (Q4_0, Q5_0, Q8_0),
// written against a tile interface `Tiles` so that one source serves two builds:
//   - packed_amx.cpp instantiates it with the real tile instructions (AMX-TILE + AMX-INT8);
//   - packed_amx_test.cpp with a scalar emulation (amx_tile_emulator.h) that checks every tile
//     shape the hardware would check, so the kernel's layouts are tested on any AVX2 machine.
//
// A packed group block is already a tile: its qs[32h + 4r + j] = row r's quant of column
// 4h + j is AMX's "VNNI" layout for the right-hand operand (8 tile rows of K = 4 columns, each
// 8 weight rows x 4 bytes). So per 32-column block, 16 activation rows (A: 16 x 32 int8, read
// in place from the Q8_0 activation blocks) times one group (B: 8 x 32) gives a 16 x 8 tile of
// exact int32 block dot products in one TDPBSSD. The 4-bit and 5-bit types are widened to
// signed bytes (q - 8, q - 16) once per group and call. The float steps then run in AVX2 as
// in every other kernel, acc = fma(d_w * d_act, (float)isum, acc) per block in column order,
// so results are bit for bit the scalar reference's.
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels/cpu/packed.h"
#include "kernels/cpu/packed_layout.h"
#include "tensor/quant_blocks.h"

// The kernel's vector code needs AVX2 (every AMX CPU has it), also when the file including this
// header is compiled for the x86-64 baseline (the emulated tests).
#define LOKAL_AMX_HOST __attribute__((target("avx2,fma,f16c")))

namespace lokal::kernels::amx {

// The 64-byte operand of LDTILECFG (palette 1): per tile its rows and bytes per row.
struct alignas(64) TileConfig {
    uint8_t palette_id = 1;
    uint8_t start_row = 0;
    uint8_t reserved[14] = {};
    uint16_t colsb[16] = {};
    uint8_t rows[16] = {};
};
static_assert(sizeof(TileConfig) == 64);

inline constexpr int kTileTokens = 16;  // activation rows per A (and C) tile
inline constexpr int kBytesPerBRow = 32;

// Tiles 0, 1: A (16 activation rows x 32 quants); 2, 3: B (one group block each, 8 rows of
// 8 weight rows x 4 quants); 4 + 2t + g: C (16 x 8 int32) of A tile t and B tile g.
inline constexpr int kTileA = 0;
inline constexpr int kTileB = 2;
inline constexpr int kTileC = 4;

inline TileConfig q32_tile_config() {
    TileConfig c;
    for (int t = 0; t < 8; ++t) {
        const bool b = t == kTileB || t == kTileB + 1;
        c.rows[t] = b ? kQK32 / 4 : kTileTokens;
        c.colsb[t] = kBytesPerBRow;
    }
    return c;
}

// One group's B operands: block ib's 8 x 32 signed bytes at b + ib * b_step, its 8 fp16 scales
// at d + ib * d_step.
struct GroupOperands {
    const uint8_t* b;
    size_t b_step;
    const uint8_t* d;
    size_t d_step;
};

// Q8_0: the packed quants are the B tile as stored.
inline GroupOperands q8_0_operands(const uint8_t* group, int64_t /*nb*/, int8_t* /*scratch*/) {
    const auto* w = reinterpret_cast<const block_q8_0x8*>(group);
    return {reinterpret_cast<const uint8_t*>(w->qs), sizeof(block_q8_0x8),
            reinterpret_cast<const uint8_t*>(w->d), sizeof(block_q8_0x8)};
}

// Q4_0: B row h < 4 holds the low nibbles of load h (columns 4h + j), row 4 + h the high ones
// (columns 16 + 4h + j); stored q becomes q - 8.
LOKAL_AMX_HOST inline GroupOperands q4_0_operands(const uint8_t* group, int64_t nb,
                                                  int8_t* scratch) {
    const auto* w = reinterpret_cast<const block_q4_0x8*>(group);
    for (int64_t ib = 0; ib < nb; ++ib) {
        int8_t* out = scratch + ib * kQK32 * 8;
        for (int i = 0; i < 128; ++i) {
            const uint8_t q = w[ib].qs[i];
            out[i] = (int8_t)((q & 0xF) - 8);
            out[128 + i] = (int8_t)((q >> 4) - 8);
        }
    }
    return {reinterpret_cast<const uint8_t*>(scratch), kQK32 * 8,
            reinterpret_cast<const uint8_t*>(w->d), sizeof(block_q4_0x8)};
}

// Q5_0: as Q4_0 with the fifth bit of load h's low nibbles at bit 2h of qh's byte 4r + j (the
// same position in its 32 bytes), of its high nibbles at bit 2h + 1; stored q becomes q - 16.
LOKAL_AMX_HOST inline GroupOperands q5_0_operands(const uint8_t* group, int64_t nb,
                                                  int8_t* scratch) {
    const auto* w = reinterpret_cast<const block_q5_0x8*>(group);
    for (int64_t ib = 0; ib < nb; ++ib) {
        int8_t* out = scratch + ib * kQK32 * 8;
        for (int h = 0; h < 4; ++h) {
            for (int i = 0; i < 32; ++i) {
                const uint8_t q = w[ib].qs[32 * h + i];
                const uint8_t bits = w[ib].qh[i];
                out[32 * h + i] = (int8_t)(((q & 0xF) | ((bits >> (2 * h)) & 1) << 4) - 16);
                out[128 + 32 * h + i] =
                    (int8_t)(((q >> 4) | ((bits >> (2 * h + 1)) & 1) << 4) - 16);
            }
        }
    }
    return {reinterpret_cast<const uint8_t*>(scratch), kQK32 * 8,
            reinterpret_cast<const uint8_t*>(w->d), sizeof(block_q5_0x8)};
}

using OperandsFn = GroupOperands (*)(const uint8_t* group, int64_t nb, int8_t* scratch);

// C tile (t, g) = A tile t x B tile g, from zero, then stored to out (16 rows of 8 int32).
template <class Tiles, int t, int g>
inline void block_product(int32_t (*out)[8]) {
    constexpr int c = kTileC + 2 * t + g;
    Tiles::template zero<c>();
    Tiles::template dot<c, kTileA + t, kTileB + g>();
    Tiles::template store<c>(out, 8 * sizeof(int32_t));
}

// kT x 16 activation rows against kG groups over all nb blocks; results to y (row m of the
// first tile at y, groups 8 columns apart).
template <class Tiles, int kT, int kG>
LOKAL_AMX_HOST void tile_rows(int64_t nb, const GroupOperands* groups, const uint8_t* act,
                              size_t act_stride, const uint8_t* info, size_t info_stride, float* y,
                              size_t ldy) {
    constexpr int kRows = kT * kTileTokens;
    __m256 acc[kRows][kG];
    for (int m = 0; m < kRows; ++m) {
        for (int g = 0; g < kG; ++g) acc[m][g] = _mm256_setzero_ps();
    }
    alignas(64) int32_t isum[kT][kG][kTileTokens][8];
    for (int64_t ib = 0; ib < nb; ++ib) {
        // Byte 2 of a block_q8_0 is its first quant.
        const uint8_t* a = act + ib * sizeof(block_q8_0) + 2;
        Tiles::template load<kTileA>(a, act_stride);
        if constexpr (kT == 2) {
            Tiles::template load<kTileA + 1>(a + kTileTokens * act_stride, act_stride);
        }
        Tiles::template load<kTileB>(groups[0].b + ib * groups[0].b_step, kBytesPerBRow);
        if constexpr (kG == 2) {
            Tiles::template load<kTileB + 1>(groups[1].b + ib * groups[1].b_step, kBytesPerBRow);
        }
        block_product<Tiles, 0, 0>(isum[0][0]);
        if constexpr (kG == 2) block_product<Tiles, 0, 1>(isum[0][1]);
        if constexpr (kT == 2) {
            block_product<Tiles, 1, 0>(isum[1][0]);
            if constexpr (kG == 2) block_product<Tiles, 1, 1>(isum[1][1]);
        }
        __m256 d_w[kG];
        for (int g = 0; g < kG; ++g) {
            d_w[g] = _mm256_cvtph_ps(_mm_loadu_si128(
                reinterpret_cast<const __m128i*>(groups[g].d + ib * groups[g].d_step)));
        }
        for (int m = 0; m < kRows; ++m) {
            const auto* ai = reinterpret_cast<const ActInfoQ8_0*>(info + m * info_stride);
            const __m256 d_a = _mm256_set1_ps(ai[ib].d);
            for (int g = 0; g < kG; ++g) {
                const __m256i s = _mm256_load_si256(
                    reinterpret_cast<const __m256i*>(isum[m / kTileTokens][g][m % kTileTokens]));
                acc[m][g] =
                    _mm256_fmadd_ps(_mm256_mul_ps(d_w[g], d_a), _mm256_cvtepi32_ps(s), acc[m][g]);
            }
        }
    }
    for (int m = 0; m < kRows; ++m) {
        for (int g = 0; g < kG; ++g) _mm256_storeu_ps(y + m * ldy + 8 * g, acc[m][g]);
    }
}

// Pairs of groups (an odd last one alone) against pairs of 16-row activation tiles (a last
// single one); widened groups are prepared once per call and pair.
template <class Tiles, int kG>
LOKAL_AMX_HOST void groups_rows(OperandsFn operands, int64_t nb, const uint8_t* w,
                                size_t group_stride, int8_t* scratch, const uint8_t* act,
                                size_t act_stride, const uint8_t* info, size_t info_stride,
                                int n_rows, float* y, size_t ldy) {
    GroupOperands groups[kG];
    for (int g = 0; g < kG; ++g) {
        groups[g] = operands(w + g * group_stride, nb, scratch + g * nb * kQK32 * 8);
    }
    int b = 0;
    for (; b + 2 * kTileTokens <= n_rows; b += 2 * kTileTokens) {
        tile_rows<Tiles, 2, kG>(nb, groups, act + b * act_stride, act_stride,
                                info + b * info_stride, info_stride, y + b * ldy, ldy);
    }
    if (b < n_rows) {
        tile_rows<Tiles, 1, kG>(nb, groups, act + b * act_stride, act_stride,
                                info + b * info_stride, info_stride, y + b * ldy, ldy);
    }
}

// A PackedGemmFn for Q4_0 / Q5_0 / Q8_0 (by `operands`): activation rows in whole tiles of 16
// go through the tiles, the rest (and batches under 16) through `rest`, the AVX2 kernel.
template <class Tiles>
LOKAL_AMX_HOST void gemm_q32(OperandsFn operands, PackedGemmFn rest, int64_t cols, const uint8_t* w,
                             size_t group_stride, int n_groups, const uint8_t* act,
                             size_t act_stride, const uint8_t* info, size_t info_stride, int n_act,
                             float* y, size_t ldy) {
    const int n_tiled = n_act / kTileTokens * kTileTokens;
    if (n_tiled > 0) {
        const int64_t nb = cols / kQK32;
        thread_local std::vector<int8_t> scratch;
        if (scratch.size() < (size_t)(2 * nb * kQK32 * 8)) scratch.resize(2 * nb * kQK32 * 8);
        Tiles::configure(q32_tile_config());
        int g = 0;
        for (; g + 2 <= n_groups; g += 2) {
            groups_rows<Tiles, 2>(operands, nb, w + g * group_stride, group_stride, scratch.data(),
                                  act, act_stride, info, info_stride, n_tiled, y + 8 * g, ldy);
        }
        if (g < n_groups) {
            groups_rows<Tiles, 1>(operands, nb, w + g * group_stride, group_stride, scratch.data(),
                                  act, act_stride, info, info_stride, n_tiled, y + 8 * g, ldy);
        }
        Tiles::release();
    }
    if (n_tiled < n_act) {
        rest(cols, w, group_stride, n_groups, act + n_tiled * act_stride, act_stride,
             info + n_tiled * info_stride, info_stride, n_act - n_tiled, y + n_tiled * ldy, ldy);
    }
}

}  // namespace lokal::kernels::amx
