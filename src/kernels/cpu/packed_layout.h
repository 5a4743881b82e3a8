// Internal: the packed group-block structs (see packed.h for the layouts) and the activation
// side data, shared by the packing code, the scalar reference and the SIMD kernels.
#pragma once

#include <cstdint>

namespace lokal::kernels {

struct block_q4_0x8 {
    uint16_t d[8];
    uint8_t qs[128];
};

// Q5_0: the low nibbles as in Q4_0x8; the fifth bits regrouped so that, for load h < 4, one
// shift and mask puts them at bit 4 of the bytes that hold their nibbles:
// qh[4r + j] bit 2h = row r's high bit of column 4h + j, bit 2h + 1 that of column 16 + 4h + j.
struct block_q5_0x8 {
    uint16_t d[8];
    uint8_t qh[32];
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

// Q6_K's 6-bit quants q (x = d * sc * (q - 32)), three bytes for every four, arranged so that
// a kernel unpacks four 32-byte vectors of quants from three loads with 11 operations. For
// 128-element half c2 and load h < 8, write q_i for the quant of element 128 c2 + 32 i + 4 h + j
// (j < 4) of row r and at = 768 c2 + 96 h + 4 r + j:
//   qs[at]      = q_0 | (q_1 >> 4) << 6        (q_0 whole, the high 2 bits of q_1)
//   qs[at + 32] = q_2 | (q_3 >> 4) << 6        (q_2 whole, the high 2 bits of q_3)
//   qs[at + 64] = (q_1 & 15) | (q_3 & 15) << 4 (the low nibbles of q_1 and q_3)
// These are exactly the stored block's bytes regrouped (see pack_q6_K), so packing is cheap.
// scale_pairs[k][2r], [2r + 1] = row r's scales of sub-blocks 2k, 2k + 1 (sub-block = e / 16).
struct block_q6_Kx8 {
    uint16_t d[8];
    int8_t scale_pairs[8][16];
    uint8_t qs[1536];
};

// Where load h of half c2's row r starts in a block_q6_Kx8's qs.
inline int q6_at(int c2, int h, int r) {
    return 768 * c2 + 96 * h + 4 * r;
}

// Row r's quant (0..63) of element e = 128 c2 + 32 i + 4 h + j, from the three bytes that hold it.
inline int q6_quant(const block_q6_Kx8& p, int e, int r) {
    const int c2 = e / 128, i = (e / 32) % 4, h = (e / 4) % 8, j = e % 4;
    const uint8_t* at = p.qs + q6_at(c2, h, r) + j;
    switch (i) {
        case 0:
            return at[0] & 0x3F;
        case 1:
            return (at[64] & 0xF) | ((at[0] >> 6) << 4);
        case 2:
            return at[32] & 0x3F;
        default:
            return (at[64] >> 4) | ((at[32] >> 6) << 4);
    }
}

// Q4_1: Q4_0x8 plus the 8 rows' block minimums (x = d * q + m).
struct block_q4_1x8 {
    uint16_t d[8];
    uint16_t m[8];
    uint8_t qs[128];
};

// Q5_1: Q5_0x8 (the fifth bits regrouped the same way) plus the 8 rows' block minimums.
struct block_q5_1x8 {
    uint16_t d[8];
    uint16_t m[8];
    uint8_t qh[32];
    uint8_t qs[128];
};

// IQ4_NL's blocks are Q4_0's (an fp16 scale and 16 bytes of nibbles), so they pack the same
// way; only the meaning of a nibble differs (an index into kIq4nlValues).
using block_iq4_nlx8 = block_q4_0x8;

// IQ4_XS: per 256 columns d[8] (fp16); scales[s][r] = row r's 6-bit scale of sub-block s minus
// 32 (-32..31); qs[128 s + 32 h + 4 r + j] = row r's qs[16 s + 4 h + j] (sub-block s laid out as
// a Q4_0x8 block: low nibbles columns 32 s + 4 h + j, high nibbles 32 s + 16 + 4 h + j).
struct block_iq4_xsx8 {
    uint16_t d[8];
    int8_t scales[8][8];
    uint8_t qs[1024];
};

// F16 and BF16: 8 columns of the 8 rows, column by column: v[8c + r] = row r's column c.
inline constexpr int64_t kF16BlockElems = 8;
struct block_16bit_x8 {
    uint16_t v[64];
};

static_assert(sizeof(block_16bit_x8) == 128);
static_assert(sizeof(block_q4_0x8) == 144);
static_assert(sizeof(block_q5_0x8) == 8 * 22);
static_assert(sizeof(block_q6_Kx8) == 8 * 210);
static_assert(sizeof(block_q8_0x8) == 272);
static_assert(sizeof(block_q4_Kx8) == 1184);
static_assert(sizeof(block_q4_1x8) == 8 * 20);
static_assert(sizeof(block_q5_1x8) == 8 * 24);
static_assert(sizeof(block_iq4_xsx8) == 8 * 138);

// Side data of one Q8_0 activation block: its scale as a float and 8 x the sum of its quants
// (q4_0 stores q + 8, so its dot product is sum(q * a) - 8 * sum(a); q5_0 stores q + 16).
struct ActInfoQ8_0 {
    float d;
    int32_t sum_x8;
};

// Side data of one Q8_1 activation block (Q4_1 and Q5_1 weights): its scale and its stored
// d * sum(quants), both as floats; the latter meets the weight block's minimum.
struct ActInfoQ8_1 {
    float d;
    float s;
};

// Side data of one Q8_K activation super-block: the sums of its 8 sub-blocks of 32.
struct ActInfoQ8_K {
    int16_t sub_sums[8];
};

}  // namespace lokal::kernels
