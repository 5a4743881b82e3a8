// Block layouts of ggml's quantized types: the one home of these layouts. Every dequantizer,
// quantizer and dot-product kernel reads blocks through these structs.
//
// Each struct is one block of a quantized row; a row of n elements is n / block_elems blocks
// back to back (no padding, no alignment beyond 2 bytes). fp16 fields are stored as raw IEEE
// half bits (uint16_t); convert with fp16_to_fp32 from base/fp16.h.
//
// Naming: "32-blocks" are the legacy formats (32 elements per block, one scale); "K" formats are
// 256-element super-blocks made of 16 or 8 sub-blocks with their own quantized scales.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lokal {

inline constexpr int kQK32 = 32;  // elements per legacy block (q4_0 .. q8_1, iq4_nl)
inline constexpr int kQKK = 256;  // elements per K super-block (q2_K .. q8_K, iq4_xs)

// x = d * (q - 8), q in 0..15.
struct block_q4_0 {
    uint16_t d;      // fp16 scale
    uint8_t qs[16];  // element j in low nibble of qs[j], element j+16 in high nibble
};

// x = d * q + m, q in 0..15.
struct block_q4_1 {
    uint16_t d;      // fp16 scale
    uint16_t m;      // fp16 minimum (offset)
    uint8_t qs[16];  // nibbles as in q4_0
};

// x = d * (q - 16), q in 0..31.
struct block_q5_0 {
    uint16_t d;      // fp16 scale
    uint8_t qh[4];   // bit j of this little-endian uint32 = 5th bit of element j
    uint8_t qs[16];  // low 4 bits, nibbles as in q4_0
};

// x = d * q + m, q in 0..31.
struct block_q5_1 {
    uint16_t d;      // fp16 scale
    uint16_t m;      // fp16 minimum (offset)
    uint8_t qh[4];   // 5th bits as in q5_0
    uint8_t qs[16];  // low 4 bits as in q5_0
};

// x = d * q, q in -127..127.
struct block_q8_0 {
    uint16_t d;     // fp16 scale
    int8_t qs[32];  // quants
};

// Like q8_0 plus the block sum, used as activations for q4_1 / q5_1.
struct block_q8_1 {
    uint16_t d;     // fp16 scale
    uint16_t s;     // fp16 of d * sum(qs)
    int8_t qs[32];  // quants
};

// 16 sub-blocks of 16: x = d * sc * q - dmin * m, q in 0..3, sc and m 4-bit.
struct block_q2_K {
    uint8_t scales[16];  // low nibble: scale, high nibble: min of sub-block j
    uint8_t qs[64];      // 2-bit quants: for each 128-half h, byte l holds elements
                         // h*128 + l + 32*s at bits 2s..2s+1 (s = 0..3)
    uint16_t d;          // fp16 super-scale for the scales
    uint16_t dmin;       // fp16 super-scale for the mins
};

// 16 sub-blocks of 16: x = d * (sc - 32) * (q - 4), q in 0..7 (2 low bits + high bit).
struct block_q3_K {
    uint8_t hmask[32];   // high bit: element i has its bit in hmask[i % 32] at bit i / 32
    uint8_t qs[64];      // low 2 bits, packed as in q2_K
    uint8_t scales[12];  // 16 6-bit scales: low 4 bits in bytes 0..7 (two per byte), high 2
                         // bits in bytes 8..11
    uint16_t d;          // fp16 super-scale
};

// 8 sub-blocks of 32: x = d * sc * q - dmin * m, q in 0..15, sc and m 6-bit.
struct block_q4_K {
    uint16_t d;          // fp16 super-scale for the scales
    uint16_t dmin;       // fp16 super-scale for the mins
    uint8_t scales[12];  // 8 scales + 8 mins, 6 bits each (see get_scale_min_k4)
    uint8_t qs[128];     // for each 64-chunk c: byte l holds element 64c+l (low nibble) and
                         // 64c+32+l (high nibble)
};

// 8 sub-blocks of 32: x = d * sc * q - dmin * m, q in 0..31.
struct block_q5_K {
    uint16_t d;          // fp16 super-scale for the scales
    uint16_t dmin;       // fp16 super-scale for the mins
    uint8_t scales[12];  // as in q4_K
    uint8_t qh[32];      // 5th bit of element 32*s + l in qh[l] at bit s
    uint8_t qs[128];     // low 4 bits, packed as in q4_K
};

// 16 sub-blocks of 16: x = d * sc * (q - 32), q in 0..63, sc signed 8-bit.
struct block_q6_K {
    uint8_t ql[128];    // low 4 bits: per 128-half, ql[l] = elements l | l+64, ql[l+32] =
                        // elements l+32 | l+96 (low | high nibble)
    uint8_t qh[64];     // high 2 bits: per 128-half, qh[l] holds elements l, l+32, l+64, l+96
                        // at bits 0-1, 2-3, 4-5, 6-7
    int8_t scales[16];  // sub-block scales
    uint16_t d;         // fp16 super-scale
};

// Activations for the K formats: x = d * q.
struct block_q8_K {
    float d;            // fp32 scale
    int8_t qs[256];     // quants
    int16_t bsums[16];  // sums of qs in groups of 16
};

// Non-linear 4-bit: x = d * kIq4nlValues[q].
struct block_iq4_nl {
    uint16_t d;      // fp16 scale
    uint8_t qs[16];  // nibbles as in q4_0
};

// 8 sub-blocks of 32 with non-linear values: x = d * (ls - 32) * kIq4nlValues[q].
struct block_iq4_xs {
    uint16_t d;           // fp16 super-scale
    uint16_t scales_h;    // high 2 bits of the 6-bit sub-block scale ib at bits 2ib..2ib+1
    uint8_t scales_l[4];  // low 4 bits of the scale of sub-block ib: nibble ib % 2 of byte ib / 2
    uint8_t qs[128];      // per sub-block of 32: 16 bytes, nibbles as in q4_0
};

static_assert(sizeof(block_q4_0) == 18);
static_assert(sizeof(block_q4_1) == 20);
static_assert(sizeof(block_q5_0) == 22);
static_assert(sizeof(block_q5_1) == 24);
static_assert(sizeof(block_q8_0) == 34);
static_assert(sizeof(block_q8_1) == 36);
static_assert(sizeof(block_q2_K) == 84);
static_assert(sizeof(block_q3_K) == 110);
static_assert(sizeof(block_q4_K) == 144);
static_assert(sizeof(block_q5_K) == 176);
static_assert(sizeof(block_q6_K) == 210);
static_assert(sizeof(block_q8_K) == 292);
static_assert(sizeof(block_iq4_nl) == 18);
static_assert(sizeof(block_iq4_xs) == 136);

// The 16 levels of iq4_nl / iq4_xs.
inline constexpr int8_t kIq4nlValues[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                            1,    13,   25,  38,  53,  69,  89,  113};

// Scale and min of sub-block j (0..7) of a q4_K / q5_K block, 6 bits each: for j < 4 the low 6
// bits of bytes j and j+4; for j >= 4 the nibbles of byte j+4 plus the top 2 bits of bytes j-4
// (scale) and j (min).
inline void get_scale_min_k4(int j, const uint8_t* q, uint8_t* sc, uint8_t* m) {
    if (j < 4) {
        *sc = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
        *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

// Inverse of get_scale_min_k4 (6-bit sc and m).
inline void put_scale_min_k4(int j, uint8_t sc, uint8_t m, uint8_t* q) {
    if (j < 4) {
        q[j] = (uint8_t)((q[j] & 0xC0) | sc);
        q[j + 4] = (uint8_t)((q[j + 4] & 0xC0) | m);
    } else {
        q[j + 4] = (uint8_t)((sc & 0xF) | ((m & 0xF) << 4));
        q[j - 4] = (uint8_t)((q[j - 4] & 0x3F) | ((sc >> 4) << 6));
        q[j] = (uint8_t)((q[j] & 0x3F) | ((m >> 4) << 6));
    }
}

// The 16 signed 6-bit scales of a q3_K block, unpacked to -32..31.
inline void unpack_q3_K_scales(const uint8_t* packed, int8_t* out) {
    for (int j = 0; j < 16; ++j) {
        const int lo = j < 8 ? packed[j] & 0xF : packed[j - 8] >> 4;
        const int hi = (packed[8 + j % 4] >> (2 * (j / 4))) & 3;
        out[j] = (int8_t)((lo | (hi << 4)) - 32);
    }
}

// Inverse of unpack_q3_K_scales (scales in -32..31).
inline void pack_q3_K_scales(const int8_t* scales, uint8_t* packed) {
    for (int j = 0; j < 12; ++j) packed[j] = 0;
    for (int j = 0; j < 16; ++j) {
        const int v = scales[j] + 32;
        packed[j % 8] |= (uint8_t)((v & 0xF) << (j < 8 ? 0 : 4));
        packed[8 + j % 4] |= (uint8_t)((v >> 4) << (2 * (j / 4)));
    }
}

}  // namespace lokal
