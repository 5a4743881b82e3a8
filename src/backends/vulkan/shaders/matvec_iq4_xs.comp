#version 450
// lokal-variants: tiled
#include "matvec_head.glsl"
#include "iq4_values.glsl"

// A unit is one of the 8 sub-blocks of 32 of a block_iq4_xs (136 bytes: fp16 d, 16 bits of
// scale high bits, 4 bytes of scale low nibbles, 128 bytes of nibbles: 16 per sub-block, as in
// iq4_nl); x = d * (ls - 32) * level[q] with ls the sub-block's 6-bit scale.
void dequant_unit(uint row_off, uint u, out vec4 v[8]) {
    const uint j = u % 8u;
    const uint off = row_off + 136u * (u / 8u);
    const uint ls = ((w_byte(off + 4u + j / 2u) >> (4u * (j % 2u))) & 0xFu) |
                    (((w_u16(off + 2u) >> (2u * j)) & 3u) << 4);
    const float dl = w_half(off) * float(int(ls) - 32);
    const uint qs = off + 8u + 16u * j;
    [[unroll]] for (uint k = 0; k < 4u; ++k) {
        const uint q4 = w_u32(qs + 4u * k);
        v[k] = iq4_levels(q4, 0u) * dl;
        v[k + 4u] = iq4_levels(q4, 4u) * dl;
    }
}

#include "matvec_main.glsl"
