// Internal: the AMX prompt-processing kernels of packed Q4_0, Q5_0, Q8_0, Q4_K and Q6_K, written
// against a tile interface `Tiles` so that one source serves two builds:
//   - packed_amx.cpp instantiates them with the real tile instructions (AMX-TILE + AMX-INT8);
//   - packed_amx_test.cpp with a scalar emulation (amx_tile_emulator.h) that checks every tile
//     shape the hardware would check, so the kernels' layouts are tested on any AVX2 machine.
//
// A packed group block is already a tile: its qs[32h + 4r + j] = row r's quant of column
// 4h + j is AMX's "VNNI" layout for the right-hand operand (8 tile rows of K = 4 columns, each
// 8 weight rows x 4 bytes). So per 32-column (sub-)block, 16 activation rows (A: 16 x 32 int8,
// read in place from the Q8_0 / Q8_K activation blocks) times one group (B: 8 x 32) gives a
// 16 x 8 tile of exact int32 dot products in one TDPBSSD (Q6_K: 16-column sub-blocks, K = 16). The
// 4-bit and 5-bit types are widened to signed bytes (Q4_0: q - 8, Q5_0: q - 16, Q4_K and Q6_K: q)
// once per group and call. The integer scales and the float steps then run in AVX2 exactly as the
// reference's (packed.h), so results are bit for bit the scalar reference's.
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

inline constexpr int kTileTokens = 16;    // activation rows per A (and C) tile
inline constexpr int kBytesPerBRow = 32;  // 8 weight rows x 4 quants

// Tiles 0, 1: A (16 activation rows x one sub-block's kSubCols quants); 2, 3: B (one group's
// sub-block: kSubCols / 4 rows of 8 weight rows x 4 quants); 4 + 2t + g: C (16 x 8 int32) of A
// tile t and B tile g. kSubCols is 32, or 16 for Q6_K's sub-blocks.
inline constexpr int kTileA = 0;
inline constexpr int kTileB = 2;
inline constexpr int kTileC = 4;

inline TileConfig tile_config(int sub_cols = kQK32) {
    TileConfig c;
    for (int t = 0; t < 8; ++t) {
        const bool a = t < kTileB, b = t == kTileB || t == kTileB + 1;
        c.rows[t] = b ? sub_cols / 4 : kTileTokens;
        c.colsb[t] = a ? sub_cols : kBytesPerBRow;
    }
    return c;
}

// One group's operands: B tile (block ib, sub-block s) of 8 x kSubCols signed bytes at
// b + ib * b_step + s * 8 * kSubCols, and the packed block ib (its scales) at
// blocks + ib * block_step.
struct GroupOperands {
    const uint8_t* b;
    size_t b_step;
    const uint8_t* blocks;
    size_t block_step;
};

inline constexpr int64_t kBTileBytes = kQK32 * 8;

// Q8_0: the packed quants are the B tile as stored.
inline GroupOperands q8_0_operands(const uint8_t* group, int64_t /*nb*/, int8_t* /*scratch*/) {
    const auto* w = reinterpret_cast<const block_q8_0x8*>(group);
    return {reinterpret_cast<const uint8_t*>(w->qs), sizeof(block_q8_0x8), group,
            sizeof(block_q8_0x8)};
}

// Q4_0: B row h < 4 holds the low nibbles of load h (columns 4h + j), row 4 + h the high ones
// (columns 16 + 4h + j); stored q becomes q - 8.
LOKAL_AMX_HOST inline GroupOperands q4_0_operands(const uint8_t* group, int64_t nb,
                                                  int8_t* scratch) {
    const auto* w = reinterpret_cast<const block_q4_0x8*>(group);
    for (int64_t ib = 0; ib < nb; ++ib) {
        int8_t* out = scratch + ib * kBTileBytes;
        for (int i = 0; i < 128; ++i) {
            const uint8_t q = w[ib].qs[i];
            out[i] = (int8_t)((q & 0xF) - 8);
            out[128 + i] = (int8_t)((q >> 4) - 8);
        }
    }
    return {reinterpret_cast<const uint8_t*>(scratch), kBTileBytes, group, sizeof(block_q4_0x8)};
}

// Q5_0: as Q4_0 with the fifth bit of load h's low nibbles at bit 2h of qh's byte 4r + j (the
// same position in its 32 bytes), of its high nibbles at bit 2h + 1; stored q becomes q - 16.
LOKAL_AMX_HOST inline GroupOperands q5_0_operands(const uint8_t* group, int64_t nb,
                                                  int8_t* scratch) {
    const auto* w = reinterpret_cast<const block_q5_0x8*>(group);
    for (int64_t ib = 0; ib < nb; ++ib) {
        int8_t* out = scratch + ib * kBTileBytes;
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
    return {reinterpret_cast<const uint8_t*>(scratch), kBTileBytes, group, sizeof(block_q5_0x8)};
}

// Q4_K: sub-block 2k's B tile holds the low nibbles of pair k's 8 loads, 2k + 1's the high ones
// (unsigned 0..15; the sub-block scales and mins are applied to the tiles' sums).
LOKAL_AMX_HOST inline GroupOperands q4_K_operands(const uint8_t* group, int64_t nb,
                                                  int8_t* scratch) {
    const auto* w = reinterpret_cast<const block_q4_Kx8*>(group);
    for (int64_t ib = 0; ib < nb; ++ib) {
        int8_t* out = scratch + ib * 8 * kBTileBytes;
        for (int k = 0; k < 4; ++k) {
            for (int i = 0; i < 256; ++i) {
                const uint8_t q = w[ib].qs[256 * k + i];
                out[2 * k * kBTileBytes + i] = (int8_t)(q & 0xF);
                out[(2 * k + 1) * kBTileBytes + i] = (int8_t)(q >> 4);
            }
        }
    }
    return {reinterpret_cast<const uint8_t*>(scratch), 8 * kBTileBytes, group,
            sizeof(block_q4_Kx8)};
}

// Q6_K: one B tile of 4 rows x 32 bytes per 16-column sub-block; quants unsigned 0..63 (the
// -32 offset is applied through the activation's block sums, as in the reference).
LOKAL_AMX_HOST inline GroupOperands q6_K_operands(const uint8_t* group, int64_t nb,
                                                  int8_t* scratch) {
    const auto* w = reinterpret_cast<const block_q6_Kx8*>(group);
    for (int64_t ib = 0; ib < nb; ++ib) {
        int8_t* out = scratch + ib * kQKK * 8;
        for (int e = 0; e < kQKK; ++e) {
            // Column e is sub-block e / 16, tile row (e % 16) / 4, byte e % 4 of each weight row.
            int8_t* at = out + (e / 16) * 128 + ((e % 16) / 4) * 32 + e % 4;
            for (int r = 0; r < 8; ++r) at[4 * r] = (int8_t)q6_quant(w[ib], e, r);
        }
    }
    return {reinterpret_cast<const uint8_t*>(scratch), kQKK * 8, group, sizeof(block_q6_Kx8)};
}

using OperandsFn = GroupOperands (*)(const uint8_t* group, int64_t nb, int8_t* scratch);

using TileSums = int32_t[kTileTokens][8];  // one C tile: 16 activation rows x 8 weight rows

// C tile (t, g) = A tile t x B tile g, from zero, then stored to out (16 rows of 8 int32).
template <class Tiles, int t, int g>
inline void block_product(int32_t (*out)[8]) {
    constexpr int c = kTileC + 2 * t + g;
    Tiles::template zero<c>();
    Tiles::template dot<c, kTileA + t, kTileB + g>();
    Tiles::template store<c>(out, 8 * sizeof(int32_t));
}

// The block dot products of kT A tiles (16 rows each, act_stride apart, from a) with kG B tiles
// (b[g]) into out[t][g].
template <class Tiles, int kT, int kG>
inline void tile_products(const uint8_t* a, size_t act_stride, const uint8_t* const* b,
                          TileSums (&out)[kT][kG]) {
    Tiles::template load<kTileA>(a, act_stride);
    if constexpr (kT == 2) {
        Tiles::template load<kTileA + 1>(a + kTileTokens * act_stride, act_stride);
    }
    Tiles::template load<kTileB>(b[0], kBytesPerBRow);
    if constexpr (kG == 2) Tiles::template load<kTileB + 1>(b[1], kBytesPerBRow);
    block_product<Tiles, 0, 0>(out[0][0]);
    if constexpr (kG == 2) block_product<Tiles, 0, 1>(out[0][1]);
    if constexpr (kT == 2) {
        block_product<Tiles, 1, 0>(out[1][0]);
        if constexpr (kG == 2) block_product<Tiles, 1, 1>(out[1][1]);
    }
}

template <int kT, int kG>
LOKAL_AMX_HOST inline __m256i tile_row(const TileSums (&sums)[kT][kG], int m, int g) {
    return _mm256_load_si256(
        reinterpret_cast<const __m256i*>(sums[m / kTileTokens][g][m % kTileTokens]));
}

// Bytes 0, 2, .., 14 (odd: 1, 3, .., 15) of 16 moved to the low 8.
LOKAL_AMX_HOST inline __m128i pick_bytes(int odd) {
    return odd ? _mm_setr_epi8(1, 3, 5, 7, 9, 11, 13, 15, -1, -1, -1, -1, -1, -1, -1, -1)
               : _mm_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, -1, -1, -1, -1, -1, -1, -1, -1);
}

LOKAL_AMX_HOST inline __m256 load_f16x8(const uint8_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

// Q4_0/Q5_0/Q8_0: kT x 16 activation rows (Q8_0 blocks) against kG groups over all nb blocks;
// results to y (row m of the first tile at y, groups 8 columns apart).
struct Q32Rows {
    static constexpr int64_t kBlockCols = kQK32;
    static constexpr int kSubCols = kQK32;

    template <class Tiles, int kT, int kG>
    LOKAL_AMX_HOST static void run(int64_t nb, const GroupOperands* groups, const uint8_t* act,
                                   size_t act_stride, const uint8_t* info, size_t info_stride,
                                   float* y, size_t ldy) {
        constexpr int kRows = kT * kTileTokens;
        __m256 acc[kRows][kG];
        for (int m = 0; m < kRows; ++m) {
            for (int g = 0; g < kG; ++g) acc[m][g] = _mm256_setzero_ps();
        }
        alignas(64) TileSums isum[kT][kG];
        for (int64_t ib = 0; ib < nb; ++ib) {
            const uint8_t* b[kG];
            __m256 d_w[kG];
            for (int g = 0; g < kG; ++g) {
                b[g] = groups[g].b + ib * groups[g].b_step;
                d_w[g] = load_f16x8(groups[g].blocks + ib * groups[g].block_step);  // d[8] first
            }
            // Byte 2 of a block_q8_0 is its first quant.
            tile_products<Tiles, kT, kG>(act + ib * sizeof(block_q8_0) + 2, act_stride, b, isum);
            for (int m = 0; m < kRows; ++m) {
                const auto* ai = reinterpret_cast<const ActInfoQ8_0*>(info + m * info_stride);
                const __m256 d_a = _mm256_set1_ps(ai[ib].d);
                for (int g = 0; g < kG; ++g) {
                    acc[m][g] =
                        _mm256_fmadd_ps(_mm256_mul_ps(d_w[g], d_a),
                                        _mm256_cvtepi32_ps(tile_row(isum, m, g)), acc[m][g]);
                }
            }
        }
        for (int m = 0; m < kRows; ++m) {
            for (int g = 0; g < kG; ++g) _mm256_storeu_ps(y + m * ldy + 8 * g, acc[m][g]);
        }
    }
};

// Q4_K: per super-block, the 8 sub-blocks' tile sums times their 6-bit scales make isum and the
// mins times the activation's sub-block sums make imin (both exact), then
// acc = fma(d_w * d_a, isum, acc) and acc = fma(-(dmin_w * d_a), imin, acc) as the reference.
struct Q4KRows {
    static constexpr int64_t kBlockCols = kQKK;
    static constexpr int kSubCols = kQK32;

    template <class Tiles, int kT, int kG>
    LOKAL_AMX_HOST static void run(int64_t nb, const GroupOperands* groups, const uint8_t* act,
                                   size_t act_stride, const uint8_t* info, size_t info_stride,
                                   float* y, size_t ldy) {
        constexpr int kRows = kT * kTileTokens;
        __m256 acc[kRows][kG];
        for (int m = 0; m < kRows; ++m) {
            for (int g = 0; g < kG; ++g) acc[m][g] = _mm256_setzero_ps();
        }
        alignas(64) TileSums sums[kT][kG];
        __m256i isum[kRows][kG];
        for (int64_t ib = 0; ib < nb; ++ib) {
            const block_q4_Kx8* p[kG];
            for (int g = 0; g < kG; ++g) {
                p[g] = reinterpret_cast<const block_q4_Kx8*>(groups[g].blocks +
                                                             ib * groups[g].block_step);
            }
            for (int m = 0; m < kRows; ++m) {
                for (int g = 0; g < kG; ++g) isum[m][g] = _mm256_setzero_si256();
            }
            const uint8_t* a = act + ib * sizeof(block_q8_K) + offsetof(block_q8_K, qs);
            for (int s = 0; s < 8; ++s) {
                const uint8_t* b[kG];
                __m256i scale[kG];
                for (int g = 0; g < kG; ++g) {
                    b[g] = groups[g].b + ib * groups[g].b_step + s * kBTileBytes;
                    // Row r's scale of sub-block s is byte 2r + (s & 1) of pair s / 2.
                    const __m128i pairs =
                        _mm_loadu_si128(reinterpret_cast<const __m128i*>(p[g]->scales[s / 2]));
                    scale[g] = _mm256_cvtepu8_epi32(_mm_shuffle_epi8(pairs, pick_bytes(s & 1)));
                }
                tile_products<Tiles, kT, kG>(a + s * kQK32, act_stride, b, sums);
                for (int m = 0; m < kRows; ++m) {
                    for (int g = 0; g < kG; ++g) {
                        isum[m][g] = _mm256_add_epi32(
                            isum[m][g], _mm256_mullo_epi32(tile_row(sums, m, g), scale[g]));
                    }
                }
            }
            // Row r's mins of sub-blocks 2k, 2k + 1 are 16-bit lanes 2r, 2r + 1 of mins[g][k].
            __m256i mins[kG][4];
            __m256 d_w[kG], dmin_w[kG];
            for (int g = 0; g < kG; ++g) {
                for (int k = 0; k < 4; ++k) {
                    mins[g][k] = _mm256_cvtepu8_epi16(
                        _mm_loadu_si128(reinterpret_cast<const __m128i*>(p[g]->mins[k])));
                }
                d_w[g] = load_f16x8(reinterpret_cast<const uint8_t*>(p[g]->d));
                dmin_w[g] = load_f16x8(reinterpret_cast<const uint8_t*>(p[g]->dmin));
            }
            for (int m = 0; m < kRows; ++m) {
                const auto* qa = reinterpret_cast<const block_q8_K*>(act + m * act_stride) + ib;
                const auto* ai = reinterpret_cast<const ActInfoQ8_K*>(info + m * info_stride) + ib;
                const __m256 d_a = _mm256_set1_ps(qa->d);
                __m256i sub_sum_pairs[4];
                for (int k = 0; k < 4; ++k) {
                    int32_t pair;
                    std::memcpy(&pair, ai->sub_sums + 2 * k, 4);
                    sub_sum_pairs[k] = _mm256_set1_epi32(pair);
                }
                for (int g = 0; g < kG; ++g) {
                    __m256i imin = _mm256_setzero_si256();
                    for (int k = 0; k < 4; ++k) {
                        imin =
                            _mm256_add_epi32(imin, _mm256_madd_epi16(mins[g][k], sub_sum_pairs[k]));
                    }
                    const __m256 d = _mm256_mul_ps(d_w[g], d_a);
                    const __m256 dmin = _mm256_mul_ps(dmin_w[g], d_a);
                    acc[m][g] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(isum[m][g]), acc[m][g]);
                    acc[m][g] = _mm256_fnmadd_ps(dmin, _mm256_cvtepi32_ps(imin), acc[m][g]);
                }
            }
        }
        for (int m = 0; m < kRows; ++m) {
            for (int g = 0; g < kG; ++g) _mm256_storeu_ps(y + m * ldy + 8 * g, acc[m][g]);
        }
    }
};

// Q6_K: per super-block, the 16 sub-blocks' tile sums times their int8 scales make isum, the
// scales times the activation's block sums make corr (both exact), then
// acc = fma(d_w * d_a, isum - 32 corr, acc) as the reference.
struct Q6KRows {
    static constexpr int64_t kBlockCols = kQKK;
    static constexpr int kSubCols = 16;

    template <class Tiles, int kT, int kG>
    LOKAL_AMX_HOST static void run(int64_t nb, const GroupOperands* groups, const uint8_t* act,
                                   size_t act_stride, const uint8_t* /*info*/,
                                   size_t /*info_stride*/, float* y, size_t ldy) {
        constexpr int kRows = kT * kTileTokens;
        __m256 acc[kRows][kG];
        for (int m = 0; m < kRows; ++m) {
            for (int g = 0; g < kG; ++g) acc[m][g] = _mm256_setzero_ps();
        }
        alignas(64) TileSums sums[kT][kG];
        __m256i isum[kRows][kG];
        for (int64_t ib = 0; ib < nb; ++ib) {
            const block_q6_Kx8* p[kG];
            for (int g = 0; g < kG; ++g) {
                p[g] = reinterpret_cast<const block_q6_Kx8*>(groups[g].blocks +
                                                             ib * groups[g].block_step);
            }
            for (int m = 0; m < kRows; ++m) {
                for (int g = 0; g < kG; ++g) isum[m][g] = _mm256_setzero_si256();
            }
            const uint8_t* a = act + ib * sizeof(block_q8_K) + offsetof(block_q8_K, qs);
            for (int s = 0; s < 16; ++s) {
                const uint8_t* b[kG];
                __m256i scale[kG];
                for (int g = 0; g < kG; ++g) {
                    b[g] = groups[g].b + ib * groups[g].b_step + s * 8 * kSubCols;
                    // Row r's scale of sub-block s is byte 2r + (s & 1) of pair s / 2.
                    scale[g] = _mm256_cvtepi8_epi32(_mm_shuffle_epi8(
                        _mm_loadu_si128(reinterpret_cast<const __m128i*>(p[g]->scale_pairs[s / 2])),
                        pick_bytes(s & 1)));
                }
                tile_products<Tiles, kT, kG>(a + s * kSubCols, act_stride, b, sums);
                for (int m = 0; m < kRows; ++m) {
                    for (int g = 0; g < kG; ++g) {
                        isum[m][g] = _mm256_add_epi32(
                            isum[m][g], _mm256_mullo_epi32(tile_row(sums, m, g), scale[g]));
                    }
                }
            }
            // Row r's scales of sub-blocks 2k, 2k + 1 are 16-bit lanes 2r, 2r + 1 of sc[g][k].
            __m256i sc[kG][8];
            __m256 d_w[kG];
            for (int g = 0; g < kG; ++g) {
                for (int k = 0; k < 8; ++k) {
                    sc[g][k] = _mm256_cvtepi8_epi16(
                        _mm_loadu_si128(reinterpret_cast<const __m128i*>(p[g]->scale_pairs[k])));
                }
                d_w[g] = load_f16x8(reinterpret_cast<const uint8_t*>(p[g]->d));
            }
            for (int m = 0; m < kRows; ++m) {
                const auto* qa = reinterpret_cast<const block_q8_K*>(act + m * act_stride) + ib;
                const __m256 d_a = _mm256_set1_ps(qa->d);
                for (int g = 0; g < kG; ++g) {
                    __m256i corr = _mm256_setzero_si256();
                    for (int k = 0; k < 8; ++k) {
                        int32_t pair;
                        std::memcpy(&pair, qa->bsums + 2 * k, 4);
                        corr = _mm256_add_epi32(
                            corr, _mm256_madd_epi16(sc[g][k], _mm256_set1_epi32(pair)));
                    }
                    const __m256i total = _mm256_sub_epi32(isum[m][g], _mm256_slli_epi32(corr, 5));
                    acc[m][g] = _mm256_fmadd_ps(_mm256_mul_ps(d_w[g], d_a),
                                                _mm256_cvtepi32_ps(total), acc[m][g]);
                }
            }
        }
        for (int m = 0; m < kRows; ++m) {
            for (int g = 0; g < kG; ++g) _mm256_storeu_ps(y + m * ldy + 8 * g, acc[m][g]);
        }
    }
};

// Pairs of groups (an odd last one alone) against pairs of 16-row activation tiles (a last
// single one); each group is widened to its B tiles once per call.
template <class Tiles, class Rows, int kG>
LOKAL_AMX_HOST void groups_rows(OperandsFn operands, int64_t cols, const uint8_t* w,
                                size_t group_stride, int8_t* scratch, const uint8_t* act,
                                size_t act_stride, const uint8_t* info, size_t info_stride,
                                int n_rows, float* y, size_t ldy) {
    const int64_t nb = cols / Rows::kBlockCols;
    GroupOperands groups[kG];
    for (int g = 0; g < kG; ++g) {
        groups[g] = operands(w + g * group_stride, nb, scratch + g * cols * kPackRows);
    }
    int b = 0;
    for (; b + 2 * kTileTokens <= n_rows; b += 2 * kTileTokens) {
        Rows::template run<Tiles, 2, kG>(nb, groups, act + b * act_stride, act_stride,
                                         info + b * info_stride, info_stride, y + b * ldy, ldy);
    }
    if (b < n_rows) {
        Rows::template run<Tiles, 1, kG>(nb, groups, act + b * act_stride, act_stride,
                                         info + b * info_stride, info_stride, y + b * ldy, ldy);
    }
}

// A PackedGemmFn body (Rows: Q32Rows for Q4_0/Q5_0/Q8_0, by `operands`; Q4KRows for Q4_K;
// Q6KRows for Q6_K):
// activation rows in whole tiles of 16 go through the tiles, the rest (and batches under 16)
// through `rest`, the AVX2 kernel.
template <class Tiles, class Rows>
LOKAL_AMX_HOST void gemm(OperandsFn operands, PackedGemmFn rest, int64_t cols, const uint8_t* w,
                         size_t group_stride, int n_groups, const uint8_t* act, size_t act_stride,
                         const uint8_t* info, size_t info_stride, int n_act, float* y, size_t ldy) {
    const int n_tiled = n_act / kTileTokens * kTileTokens;
    if (n_tiled > 0) {
        thread_local std::vector<int8_t> scratch;  // two groups as signed bytes
        if (scratch.size() < (size_t)(2 * cols * kPackRows)) scratch.resize(2 * cols * kPackRows);
        Tiles::configure(tile_config(Rows::kSubCols));
        int g = 0;
        for (; g + 2 <= n_groups; g += 2) {
            groups_rows<Tiles, Rows, 2>(operands, cols, w + g * group_stride, group_stride,
                                        scratch.data(), act, act_stride, info, info_stride, n_tiled,
                                        y + 8 * g, ldy);
        }
        if (g < n_groups) {
            groups_rows<Tiles, Rows, 1>(operands, cols, w + g * group_stride, group_stride,
                                        scratch.data(), act, act_stride, info, info_stride, n_tiled,
                                        y + 8 * g, ldy);
        }
        Tiles::release();
    }
    if (n_tiled < n_act) {
        rest(cols, w, group_stride, n_groups, act + n_tiled * act_stride, act_stride,
             info + n_tiled * info_stride, info_stride, n_act - n_tiled, y + n_tiled * ldy, ldy);
    }
}

}  // namespace lokal::kernels::amx
