#version 450
// out = act(gate) * up: SiLU, or GELU with VARIANT_GELU. out may be up or gate (each element
// is read and written by one invocation).
// lokal-variants: gelu
#include "row_elementwise.glsl"

layout(std430, binding = 0) readonly buffer Gate { float gate[]; };
layout(std430, binding = 1) readonly buffer Up { float up[]; };
layout(std430, binding = 2) writeonly buffer Out { float out_[]; };

layout(push_constant) uniform Push {
    uint n;
    uint width;
    uint gate_offset;
    uint gate_stride;
    uint up_offset;
    uint up_stride;
    uint out_offset;
    uint out_stride;
} p;

#ifdef VARIANT_GELU
#define GELU_TABLE_BINDING 3
#include "gelu_f16.glsl"
float act(float g) {
    return gelu_f16(g);
}
#else
#include "silu.glsl"
float act(float g) {
    return silu(g);
}
#endif

void main() {
    uint row, col;
    if (!this_element(p.n, p.width, row, col)) return;
    const float g = gate[p.gate_offset + row * p.gate_stride + col];
    precise const float y = act(g) * up[p.up_offset + row * p.up_stride + col];
    out_[p.out_offset + row * p.out_stride + col] = y;
}
