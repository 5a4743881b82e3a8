#version 450
// lokal-variants: subgroup
#include "matvec_head.glsl"

// A unit is 32 elements of a block_q6_K (210 bytes: 128 bytes of low nibbles ql, 64 bytes of
// high 2-bit pairs qh, 16 int8 scales, fp16 d); x = d * sc * (q - 32). Unit t = 4h + k of a
// block is elements 128h + 32k + l (l < 32): low nibble of ql[64h + 32(k%2) + l] (the high one
// for k >= 2), bits 2k..2k+1 of qh[32h + l], scale sc[8h + 2k + l/16].
uint units_in_row(uint cols) { return cols / 32u; }

float unit_dot(uint row_off, uint u, uint xo) {
    const uint t = u % 8u;
    const uint h = t / 4u, k = t % 4u;
    const uint off = row_off + 210u * (u / 8u);
    const uint xb = xo + 32u * u;
    const uint ql = off + 64u * h + 32u * (k % 2u);
    const uint qh = off + 128u + 32u * h;
    const uint lshift = 4u * (k / 2u), hshift = 2u * k;
    float part[2] = float[2](0.0, 0.0);
    for (uint g = 0; g < 8u; ++g) {
        const uint lo4 = w_u32(ql + 4u * g) >> lshift;
        const uint hi4 = w_u32(qh + 4u * g) >> hshift;
        for (uint b = 0; b < 4u; ++b) {
            const int q = int(((lo4 >> (8u * b)) & 0xFu) | (((hi4 >> (8u * b)) & 3u) << 4)) - 32;
            part[g / 4u] += float(q) * x[xb + 4u * g + b];
        }
    }
    const uint scales = off + 192u + 8u * h + 2u * k;
    const float sc0 = float(bitfieldExtract(int(w_byte(scales)), 0, 8));
    const float sc1 = float(bitfieldExtract(int(w_byte(scales + 1u)), 0, 8));
    return w_half(off + 208u) * (sc0 * part[0] + sc1 * part[1]);
}

#include "matvec_main.glsl"
