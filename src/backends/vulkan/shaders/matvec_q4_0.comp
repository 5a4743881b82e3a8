#version 450
// lokal-variants: tiled
#include "matvec_head.glsl"

// A unit is one block_q4_0 (18 bytes): fp16 d, then 16 bytes whose low nibbles are elements
// 0..15 and high nibbles 16..31; x = d * (q - 8).
void dequant_unit(uint row_off, uint u, out vec4 v[8]) {
    const uint off = row_off + 18u * u;
    const float d = w_half(off);
    [[unroll]] for (uint k = 0; k < 4u; ++k) {
        const uint q4 = w_u32(off + 2u + 4u * k);
        v[k] = (nibbles(q4, 0u) - 8.0) * d;
        v[k + 4u] = (nibbles(q4, 4u) - 8.0) * d;
    }
}

#include "matvec_main.glsl"
