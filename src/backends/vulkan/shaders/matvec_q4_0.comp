#version 450
// lokal-variants: subgroup
#include "matvec_head.glsl"

// A unit is one block_q4_0 (18 bytes): fp16 d, then 16 bytes whose low nibbles are elements
// 0..15 and high nibbles 16..31; x = d * (q - 8).
uint units_in_row(uint cols) { return cols / 32u; }

float unit_dot(uint row_off, uint u, uint xo) {
    const uint off = row_off + 18u * u;
    const uint xb = xo + 32u * u;
    float s = 0.0;
    for (uint k = 0; k < 4u; ++k) {
        const uint q4 = w_u32(off + 2u + 4u * k);
        for (uint j = 0; j < 4u; ++j) {
            const uint b = q4 >> (8u * j);
            const uint e = 4u * k + j;
            s += float(int(b & 0xFu) - 8) * x[xb + e] + float(int((b >> 4) & 0xFu) - 8) * x[xb + e + 16u];
        }
    }
    return w_half(off) * s;
}

#include "matvec_main.glsl"
