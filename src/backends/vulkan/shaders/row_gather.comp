#version 450
// dst row r = src row rows[rows_offset + r]; dst must not overlap src.
#include "row_elementwise.glsl"

layout(std430, binding = 0) readonly buffer Src { float src[]; };
layout(std430, binding = 1) readonly buffer Rows { uint rows[]; };
layout(std430, binding = 2) writeonly buffer Dst { float dst[]; };

layout(push_constant) uniform Push {
    uint n;
    uint width;
    uint src_offset;
    uint src_stride;
    uint dst_offset;
    uint dst_stride;
    uint rows_offset;
} p;

void main() {
    uint row, col;
    if (!this_element(p.n, p.width, row, col)) return;
    const uint from = rows[p.rows_offset + row];
    dst[p.dst_offset + row * p.dst_stride + col] = src[p.src_offset + from * p.src_stride + col];
}
