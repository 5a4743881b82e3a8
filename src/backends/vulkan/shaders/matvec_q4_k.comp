#version 450
// lokal-variants: tiled
#include "matvec_head.glsl"
#include "k_scales.glsl"

// A unit is one of the 8 sub-blocks of 32 of a block_q4_K (144 bytes: fp16 d, fp16 dmin,
// 12 bytes of 6-bit scales and mins, 128 bytes of nibbles); x = d * sc * q - dmin * m.
// Sub-blocks 2c and 2c+1 share the 32 bytes of chunk c: low and high nibbles.
void dequant_unit(uint row_off, uint u, out vec4 v[8]) {
    const uint j = u % 8u;
    const uint off = row_off + 144u * (u / 8u);
    float sc, m;
    scale_min_k4(off + 4u, j, sc, m);
    const float ds = w_half(off) * sc, dm = w_half(off + 2u) * m;
    const uint qs = off + 16u + 32u * (j / 2u), shift = 4u * (j % 2u);
    [[unroll]] for (uint k = 0; k < 8u; ++k) v[k] = ds * nibbles(w_u32(qs + 4u * k), shift) - dm;
}

#include "matvec_main.glsl"
