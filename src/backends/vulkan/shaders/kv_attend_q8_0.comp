#version 450
// Attention over a Q8_0 KV cache (kv_attend_head.glsl, attend_main.glsl): element e of a row
// is block e / 32 (34 bytes: fp16 scale, 32 int8), value scale * quant.
#extension GL_GOOGLE_include_directive : require
#include "kv_attend_head.glsl"

float row_elem(uvec2 row, uint d) {
    const uint e = kv_elem0 + d;
    const uint block = 34u * (e >> 5);
    return unpackHalf2x16(row_u16(row, block)).x * float(row_i8(row, block + 2u + (e & 31u)));
}

#include "attend_main.glsl"
