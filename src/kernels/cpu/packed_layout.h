// Internal: the packed group-block structs (see packed.h for the layouts) and the activation
// side data, shared by the packing code, the scalar reference and the SIMD kernels.
#pragma once

#include <cstdint>

namespace lokal::kernels {

struct block_q4_0x8 {
    uint16_t d[8];
    uint8_t qs[128];
};

struct block_q8_0x8 {
    uint16_t d[8];
    int8_t qs[256];
};

struct block_q4_Kx8 {
    uint16_t d[8];
    uint16_t dmin[8];
    uint8_t scales[4][16];  // [pair k][2r], [2r + 1]: row r's scales of sub-blocks 2k, 2k + 1
    uint8_t mins[4][16];    // [pair k][2r], [2r + 1]: row r's mins of sub-blocks 2k, 2k + 1
    uint8_t qs[1024];
};

// Q6_K's 6-bit quants q (x = d * sc * (q - 32)) as a nibble plane and a 2-bit plane. For
// 128-element half c2 and load h < 8 (element e = 128 c2 + 32 i + 4 h + j, j < 4, of row r):
//   ql[256 (2 c2 + i / 2) + 32 h + 4 r + j]: low 4 bits of e for i = 0, 2 (low nibble) and
//                                            i = 1, 3 (high nibble);
//   qh[256 c2 + 32 h + 4 r + j] bits 2i, 2i + 1: high 2 bits of e.
// scale_pairs[k][2r], [2r + 1] = row r's scales of sub-blocks 2k, 2k + 1 (sub-block = e / 16).
struct block_q6_Kx8 {
    uint16_t d[8];
    int8_t scale_pairs[8][16];
    uint8_t ql[1024];
    uint8_t qh[512];
};

static_assert(sizeof(block_q4_0x8) == 144);
static_assert(sizeof(block_q6_Kx8) == 8 * 210);
static_assert(sizeof(block_q8_0x8) == 272);
static_assert(sizeof(block_q4_Kx8) == 1184);

// Side data of one Q8_0 activation block: its scale as a float and 8 x the sum of its quants
// (q4_0 stores q + 8, so its dot product is sum(q * a) - 8 * sum(a)).
struct ActInfoQ8_0 {
    float d;
    int32_t sum_x8;
};

// Side data of one Q8_K activation super-block: the sums of its 8 sub-blocks of 32.
struct ActInfoQ8_K {
    int16_t sub_sums[8];
};

}  // namespace lokal::kernels
