#version 450
// lokal-variants: tiled
#include "matvec_head.glsl"

// A unit is one block_q8_0 (34 bytes): fp16 d, then 32 int8 quants; x = d * q.
void dequant_unit(uint row_off, uint u, out vec4 v[8]) {
    const uint off = row_off + 34u * u;
    const float d = w_half(off);
    [[unroll]] for (uint k = 0; k < 8u; ++k) {
        const ivec4 q = (ivec4(w_u32(off + 2u + 4u * k)) << ivec4(24, 16, 8, 0)) >> 24;
        v[k] = vec4(q) * d;
    }
}

#include "matvec_main.glsl"
