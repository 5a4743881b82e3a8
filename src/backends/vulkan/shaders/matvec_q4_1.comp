#version 450
// lokal-variants: tiled
#include "matvec_head.glsl"

// A unit is one block_q4_1 (20 bytes): fp16 d, fp16 m, then 16 bytes of nibbles as in q4_0;
// x = d * q + m.
void dequant_unit(uint row_off, uint u, out vec4 v[8]) {
    const uint off = row_off + 20u * u;
    const float d = w_half(off), m = w_half(off + 2u);
    [[unroll]] for (uint k = 0; k < 4u; ++k) {
        const uint q4 = w_u32(off + 4u + 4u * k);
        v[k] = nibbles(q4, 0u) * d + m;
        v[k + 4u] = nibbles(q4, 4u) * d + m;
    }
}

#include "matvec_main.glsl"
