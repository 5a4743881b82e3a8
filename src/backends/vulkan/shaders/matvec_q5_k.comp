#version 450
// lokal-variants: tiled
#include "matvec_head.glsl"
#include "k_scales.glsl"

// A unit is one of the 8 sub-blocks of 32 of a block_q5_K (176 bytes: fp16 d, fp16 dmin,
// 12 bytes of scales and mins as in q4_K, 32 bytes qh, 128 bytes of low nibbles as in q4_K);
// element l of sub-block j has its 5th bit in bit j of qh[l]; x = d * sc * q - dmin * m.
void dequant_unit(uint row_off, uint u, out vec4 v[8]) {
    const uint j = u % 8u;
    const uint off = row_off + 176u * (u / 8u);
    float sc, m;
    scale_min_k4(off + 4u, j, sc, m);
    const float ds = w_half(off) * sc, dm = w_half(off + 2u) * m;
    const uint qs = off + 48u + 32u * (j / 2u), shift = 4u * (j % 2u);
    [[unroll]] for (uint k = 0; k < 8u; ++k) {
        const vec4 q = nibbles(w_u32(qs + 4u * k), shift) + 16.0 * byte_bits(w_u32(off + 16u + 4u * k), j);
        v[k] = ds * q - dm;
    }
}

#include "matvec_main.glsl"
