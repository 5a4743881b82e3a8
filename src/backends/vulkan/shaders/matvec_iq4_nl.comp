#version 450
// lokal-variants: tiled
#include "matvec_head.glsl"
#include "iq4_values.glsl"

// A unit is one block_iq4_nl (18 bytes): fp16 d, then 16 bytes of nibbles as in q4_0 that
// index the 16 non-linear levels; x = d * level[q].
void dequant_unit(uint row_off, uint u, out vec4 v[8]) {
    const uint off = row_off + 18u * u;
    const float d = w_half(off);
    [[unroll]] for (uint k = 0; k < 4u; ++k) {
        const uint q4 = w_u32(off + 2u + 4u * k);
        v[k] = iq4_levels(q4, 0u) * d;
        v[k + 4u] = iq4_levels(q4, 4u) * d;
    }
}

#include "matvec_main.glsl"
