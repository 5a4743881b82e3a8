#version 450
// lokal-variants: subgroup
#include "matvec_head.glsl"

// A unit is one block_q8_0 (34 bytes): fp16 d, then 32 int8 quants; x = d * q.
uint units_in_row(uint cols) { return cols / 32u; }

float unit_dot(uint row_off, uint u, uint xo) {
    const uint off = row_off + 34u * u;
    const uint xb = xo + 32u * u;
    float s = 0.0;
    for (uint k = 0; k < 8u; ++k) {
        const int q4 = int(w_u32(off + 2u + 4u * k));
        for (uint j = 0; j < 4u; ++j) {
            s += float(bitfieldExtract(q4, int(8u * j), 8)) * x[xb + 4u * k + j];
        }
    }
    return w_half(off) * s;
}

#include "matvec_main.glsl"
