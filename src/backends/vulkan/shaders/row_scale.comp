#version 450
// x *= s, in place.
#include "row_elementwise.glsl"

layout(std430, binding = 0) buffer X { float x[]; };

layout(push_constant) uniform Push {
    uint n;
    uint width;
    uint offset;
    uint stride;
    float s;
} p;

void main() {
    uint row, col;
    if (!this_element(p.n, p.width, row, col)) return;
    const uint i = p.offset + row * p.stride + col;
    x[i] *= p.s;
}
