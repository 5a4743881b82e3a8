#version 450
// x += y row by row; a bias is a y of stride 0 (the same row for every row of x).
#include "row_elementwise.glsl"

layout(std430, binding = 0) buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer Y { float y[]; };

layout(push_constant) uniform Push {
    uint n;
    uint width;
    uint x_offset;
    uint x_stride;
    uint y_offset;
    uint y_stride;
} p;

void main() {
    uint row, col;
    if (!this_element(p.n, p.width, row, col)) return;
    const uint i = p.x_offset + row * p.x_stride + col;
    x[i] += y[p.y_offset + row * p.y_stride + col];
}
