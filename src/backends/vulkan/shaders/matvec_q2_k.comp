#version 450
// lokal-variants: tiled
#include "matvec_head.glsl"

// A unit is 32 elements of a block_q2_K (84 bytes: 16 scale bytes, 64 bytes of 2-bit quants,
// fp16 d, fp16 dmin); x = d * sc * q - dmin * m with sc, m the low and high nibbles of the
// sub-block's scale byte. Unit j = 4h + s is elements 128h + 32s + l (l < 32): bits 2s..2s+1 of
// qs[32h + l], scale byte 2j + l/16.
void dequant_unit(uint row_off, uint u, out vec4 v[8]) {
    const uint j = u % 8u;
    const uint off = row_off + 84u * (u / 8u);
    const uint qs = off + 16u + 32u * (j / 4u), shift = 2u * (j % 4u);
    const float d = w_half(off + 80u), dmin = w_half(off + 82u);
    [[unroll]] for (uint half16 = 0; half16 < 2u; ++half16) {
        const uint sc = w_byte(off + 2u * j + half16);
        const float dl = d * float(sc & 0xFu), ml = dmin * float(sc >> 4);
        [[unroll]] for (uint g = 0; g < 4u; ++g) {
            const uint q4 = w_u32(qs + 16u * half16 + 4u * g);
            const vec4 q = vec4((uvec4(q4) >> (uvec4(0u, 8u, 16u, 24u) + shift)) & 3u);
            v[4u * half16 + g] = dl * q - ml;
        }
    }
}

#include "matvec_main.glsl"
