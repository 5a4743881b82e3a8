#version 450
// lokal-variants: tiled
#include "matvec_head.glsl"

// A unit is one block_q5_0 (22 bytes): fp16 d, a 32-bit word whose bit j is the 5th bit of
// element j, then 16 bytes of low nibbles as in q4_0; x = d * (q - 16).
void dequant_unit(uint row_off, uint u, out vec4 v[8]) {
    const uint off = row_off + 22u * u;
    const float d = w_half(off);
    const uint qh = w_u32(off + 2u);
    [[unroll]] for (uint k = 0; k < 4u; ++k) {
        const uint q4 = w_u32(off + 6u + 4u * k);
        // The 5th bits of elements 4k..4k+3 and 16+4k..16+4k+3, one per byte.
        const uint lo_h = (qh >> (4u * k)) & 0xFu, hi_h = (qh >> (16u + 4u * k)) & 0xFu;
        const vec4 lo = nibbles(q4, 0u) + 16.0 * vec4((uvec4(lo_h) >> uvec4(0u, 1u, 2u, 3u)) & 1u);
        const vec4 hi = nibbles(q4, 4u) + 16.0 * vec4((uvec4(hi_h) >> uvec4(0u, 1u, 2u, 3u)) & 1u);
        v[k] = (lo - 16.0) * d;
        v[k + 4u] = (hi - 16.0) * d;
    }
}

#include "matvec_main.glsl"
