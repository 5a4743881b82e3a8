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

// Q5_K: d, dmin, scales, mins and qs as in block_q4_Kx8; the fifth bits are the stored qh
// bytes interleaved like the nibbles: qh[32h + 4r + j] = row r's qh[4h + j], whose bit s belongs
// to element 32s + 4h + j. For sub-block pair k one shift and mask of that vector put the bits of
// sub-block 2k (bit 2k, low nibbles of load (k, h)) or 2k + 1 (bit 2k + 1, high nibbles) at bit 4.
struct block_q5_Kx8 {
    uint16_t d[8];
    uint16_t dmin[8];
    uint8_t scales[4][16];
    uint8_t mins[4][16];
    uint8_t qh[256];
    uint8_t qs[1024];
};

// Q3_K and Q2_K keep their 2-bit quants as stored, interleaved 4 bytes per row per 128-element
// half c2: qs[256c2 + 32h + 4r + j] = row r's qs[32c2 + 4h + j], whose bits 2s, 2s + 1 hold
// element 128c2 + 32s + 4h + j (sub-block 8c2 + 2s + h / 4 of 16 elements).
inline int k2_at(int c2, int h, int r) {
    return 256 * c2 + 32 * h + 4 * r;
}

// Q3_K: x = d * sc * (q - 4), q = low 2 bits | high bit << 2. The high bits are the stored hmask
// bytes interleaved: hmask[32h + 4r + j] = row r's hmask[4h + j], bit 4c2 + s for the element
// above. scale_pairs[k][2r], [2r + 1] = row r's scales (-32..31) of sub-blocks 2k, 2k + 1.
struct block_q3_Kx8 {
    uint16_t d[8];
    int8_t scale_pairs[8][16];
    uint8_t hmask[256];
    uint8_t qs[512];
};

// Q2_K: x = d * sc * q - dmin * m, q the 2 bits. scale_pairs[k][2r], [2r + 1] = row r's stored
// scale bytes (sc | m << 4) of sub-blocks 2k, 2k + 1.
struct block_q2_Kx8 {
    uint16_t d[8];
    uint16_t dmin[8];
    uint8_t scale_pairs[8][16];
    uint8_t qs[512];
};

// Row r's quant of element e of a Q3_Kx8 (0..7, x = d * sc * (q - 4)) or Q2_Kx8 (0..3).
inline int k2_low_bits(const uint8_t* qs, int e, int r) {
    const int c2 = e / 128, s = (e / 32) % 4, h = (e / 4) % 8, j = e % 4;
    return (qs[k2_at(c2, h, r) + j] >> (2 * s)) & 3;
}
inline int q3_quant(const block_q3_Kx8& p, int e, int r) {
    const int c2 = e / 128, s = (e / 32) % 4, h = (e / 4) % 8, j = e % 4;
    const int high = (p.hmask[32 * h + 4 * r + j] >> (4 * c2 + s)) & 1;
    return k2_low_bits(p.qs, e, r) | high << 2;
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
static_assert(sizeof(block_q5_Kx8) == 8 * 180);
static_assert(sizeof(block_q3_Kx8) == 8 * 114);
static_assert(sizeof(block_q2_Kx8) == 8 * 84);
static_assert(sizeof(block_q4_1x8) == 8 * 20);
static_assert(sizeof(block_q5_1x8) == 8 * 24);
static_assert(sizeof(block_iq4_xsx8) == 8 * 138);

// Side data of one Q8_0 activation block: its scale as a float and 8 x the sum of its quants
// (q4_0 stores q + 8, so its dot product is sum(q * a) - 8 * sum(a); q5_0 stores q + 16).
struct ActInfoQ8_0 {
    float d;
    int32_t sum_x8;
};

// Layouts whose kernels need no side data (Q6_K, Q3_K and Q2_K read the Q8_K blocks' bsums).
struct NoInfo {};
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
