#version 450
// Encoders' attention (attend_main.glsl): every one of n rows attends to all n rows, no cache
// and no mask. Key and value head h of row j are at k_offset + j * k_stride + h * head_dim
// (v likewise); one key/value head per query head (group 1).
#extension GL_GOOGLE_include_directive : require
#define PUSH_EXTRA \
    uint k_offset; \
    uint k_stride; \
    uint v_offset; \
    uint v_stride;
#include "attend_head.glsl"

layout(std430, binding = 2) readonly buffer Keys { float keys[]; };
layout(std430, binding = 3) readonly buffer Values { float values[]; };

uint head_elem0;

void begin_token(uint t, uint kv_head, out uint first, out uint last) {
    first = 0u;
    last = p.n - 1u;
    head_elem0 = kv_head * p.head_dim;
}

// x: 0 for keys, 1 for values; y: the row's first float.
uvec2 key_row(uint j) { return uvec2(0u, p.k_offset + j * p.k_stride + head_elem0); }
uvec2 value_row(uint j) { return uvec2(1u, p.v_offset + j * p.v_stride + head_elem0); }

float row_elem(uvec2 row, uint d) {
    return row.x == 0u ? keys[row.y + d] : values[row.y + d];
}

#include "attend_main.glsl"
