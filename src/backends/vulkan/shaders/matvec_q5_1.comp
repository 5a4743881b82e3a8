#version 450
// lokal-variants: tiled
#include "matvec_head.glsl"

// A unit is one block_q5_1 (24 bytes): fp16 d, fp16 m, the 5th bits as in q5_0, then 16 bytes
// of low nibbles; x = d * q + m.
void dequant_unit(uint row_off, uint u, out vec4 v[8]) {
    const uint off = row_off + 24u * u;
    const float d = w_half(off), m = w_half(off + 2u);
    const uint qh = w_u32(off + 4u);
    [[unroll]] for (uint k = 0; k < 4u; ++k) {
        const uint q4 = w_u32(off + 8u + 4u * k);
        const uint lo_h = (qh >> (4u * k)) & 0xFu, hi_h = (qh >> (16u + 4u * k)) & 0xFu;
        const vec4 lo = nibbles(q4, 0u) + 16.0 * vec4((uvec4(lo_h) >> uvec4(0u, 1u, 2u, 3u)) & 1u);
        const vec4 hi = nibbles(q4, 4u) + 16.0 * vec4((uvec4(hi_h) >> uvec4(0u, 1u, 2u, 3u)) & 1u);
        v[k] = lo * d + m;
        v[k + 4u] = hi * d + m;
    }
}

#include "matvec_main.glsl"
