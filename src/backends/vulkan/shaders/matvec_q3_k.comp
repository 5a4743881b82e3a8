#version 450
// lokal-variants: tiled
#include "matvec_head.glsl"

// A unit is 32 elements of a block_q3_K (110 bytes: 32 bytes hmask, 64 bytes of low 2-bit
// quants as in q2_K, 12 bytes of 6-bit scales, fp16 d); x = d * (sc - 32) * q with
// q = low bits - 4 unless the element's hmask bit is set. Unit j = 4h + s is elements
// 128h + 32s + l (l < 32): bits 2s..2s+1 of qs[32h + l], bit j of hmask[l], scale 2j + l/16.
// Scale i: low 4 bits in byte i (i < 8, low nibble) or i - 8 (high nibble), high 2 bits at
// bits 2(i/4) of byte 8 + i%4 (unpack_q3_K_scales in tensor/quant_blocks.h).
float q3_scale(uint at, uint i) {
    const uint lo = i < 8u ? w_byte(at + i) & 0xFu : w_byte(at + i - 8u) >> 4;
    const uint hi = (w_byte(at + 8u + i % 4u) >> (2u * (i / 4u))) & 3u;
    return float(int(lo | (hi << 4)) - 32);
}

void dequant_unit(uint row_off, uint u, out vec4 v[8]) {
    const uint j = u % 8u;
    const uint off = row_off + 110u * (u / 8u);
    const uint qs = off + 32u + 32u * (j / 4u), shift = 2u * (j % 4u);
    const float d = w_half(off + 108u);
    [[unroll]] for (uint half16 = 0; half16 < 2u; ++half16) {
        const float dl = d * q3_scale(off + 96u, 2u * j + half16);
        [[unroll]] for (uint g = 0; g < 4u; ++g) {
            const uint at = 16u * half16 + 4u * g;
            const vec4 low = vec4((uvec4(w_u32(qs + at)) >> (uvec4(0u, 8u, 16u, 24u) + shift)) & 3u);
            const vec4 high = byte_bits(w_u32(off + at), j);
            v[4u * half16 + g] = dl * (low - 4.0 * (1.0 - high));
        }
    }
}

#include "matvec_main.glsl"
