#version 450
// lokal-variants: subgroup
#include "matvec_head.glsl"

// A unit is one of the 8 sub-blocks of 32 of a block_q4_K (144 bytes: fp16 d, fp16 dmin,
// 12 bytes of 6-bit scales and mins, 128 bytes of nibbles); x = d * sc * q - dmin * m.
uint units_in_row(uint cols) { return cols / 32u; }

float unit_dot(uint row_off, uint u, uint xo) {
    const uint j = u % 8u;  // sub-block
    const uint off = row_off + 144u * (u / 8u);
    const uint xb = xo + 32u * u;
    // get_scale_min_k4 (tensor/quant_blocks.h) on the scale bytes at off + 4.
    uint sc, m;
    if (j < 4u) {
        sc = w_byte(off + 4u + j) & 63u;
        m = w_byte(off + 8u + j) & 63u;
    } else {
        sc = (w_byte(off + 8u + j) & 0xFu) | ((w_byte(off + j) >> 6) << 4);
        m = (w_byte(off + 8u + j) >> 4) | ((w_byte(off + 4u + j) >> 6) << 4);
    }
    // Sub-blocks 2c and 2c+1 share the 32 bytes of chunk c: low and high nibbles.
    const uint qs = off + 16u + 32u * (j / 2u);
    const uint shift = 4u * (j % 2u);
    float qx = 0.0, sx = 0.0;
    for (uint k = 0; k < 8u; ++k) {
        const uint q4 = w_u32(qs + 4u * k) >> shift;
        for (uint b = 0; b < 4u; ++b) {
            const float xv = x[xb + 4u * k + b];
            qx += float((q4 >> (8u * b)) & 0xFu) * xv;
            sx += xv;
        }
    }
    return w_half(off) * float(sc) * qx - w_half(off + 2u) * float(m) * sx;
}

#include "matvec_main.glsl"
