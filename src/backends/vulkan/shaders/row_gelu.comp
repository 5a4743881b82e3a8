#version 450
// x = gelu(x), in place, through the F16 table (gelu_f16.glsl).
#include "row_elementwise.glsl"

layout(std430, binding = 0) buffer X { float x[]; };
#define GELU_TABLE_BINDING 1
#include "gelu_f16.glsl"

layout(push_constant) uniform Push {
    uint n;
    uint width;
    uint offset;
    uint stride;
} p;

void main() {
    uint row, col;
    if (!this_element(p.n, p.width, row, col)) return;
    const uint i = p.offset + row * p.stride + col;
    x[i] = gelu_f16(x[i]);
}
