#version 450
// Attention over an F32 KV cache (kv_attend_head.glsl, attend_main.glsl). F32 rows start at
// whole words.
#extension GL_GOOGLE_include_directive : require
#include "kv_attend_head.glsl"

float row_elem(uvec2 row, uint d) {
    return uintBitsToFloat(pool[row.x + (row.y >> 2) + kv_elem0 + d]);
}

#include "attend_main.glsl"
