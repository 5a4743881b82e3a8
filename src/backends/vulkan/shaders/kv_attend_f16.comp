#version 450
// Attention over an F16 KV cache (kv_attend_head.glsl, attend_main.glsl).
#extension GL_GOOGLE_include_directive : require
#include "kv_attend_head.glsl"

float row_elem(uvec2 row, uint d) {
    return unpackHalf2x16(row_u16(row, 2u * (kv_elem0 + d))).x;
}

#include "attend_main.glsl"
