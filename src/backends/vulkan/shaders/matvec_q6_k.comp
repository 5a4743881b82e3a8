#version 450
// lokal-variants: tiled
#include "matvec_head.glsl"

// A unit is 32 elements of a block_q6_K (210 bytes: 128 bytes of low nibbles ql, 64 bytes of
// high 2-bit pairs qh, 16 int8 scales, fp16 d); x = d * sc * (q - 32). Unit t = 4h + k of a
// block is elements 128h + 32k + l (l < 32): low nibble of ql[64h + 32(k%2) + l] (the high one
// for k >= 2), bits 2k..2k+1 of qh[32h + l], scale sc[8h + 2k + l/16].
void dequant_unit(uint row_off, uint u, out vec4 v[8]) {
    const uint t = u % 8u;
    const uint h = t / 4u, k = t % 4u;
    const uint off = row_off + 210u * (u / 8u);
    const uint ql = off + 64u * h + 32u * (k % 2u);
    const uint qh = off + 128u + 32u * h;
    const uint lshift = 4u * (k / 2u), hshift = 2u * k;
    const uint scales = off + 192u + 8u * h + 2u * k;
    const float d = w_half(off + 208u);
    const float ds[2] = float[2](d * float(bitfieldExtract(int(w_byte(scales)), 0, 8)),
                                 d * float(bitfieldExtract(int(w_byte(scales + 1u)), 0, 8)));
    [[unroll]] for (uint g = 0; g < 8u; ++g) {
        const uvec4 sh = uvec4(0u, 8u, 16u, 24u);
        const uvec4 lo = (uvec4(w_u32(ql + 4u * g)) >> (sh + lshift)) & 0xFu;
        const uvec4 hi = (uvec4(w_u32(qh + 4u * g)) >> (sh + hshift)) & 3u;
        v[g] = ds[g / 4u] * (vec4(lo | (hi << 4)) - 32.0);
    }
}

#include "matvec_main.glsl"
