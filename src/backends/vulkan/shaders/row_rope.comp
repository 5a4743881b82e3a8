#version 450
// Rotary embedding in place: the first n_rot dims of each head (head_dim apart) of each row,
// as adjacent pairs or (neox) as halves. The angles come from the host: per row t, n_rot / 2
// cosines then n_rot / 2 sines at table_offset + t * n_rot. One workgroup per head of a row
// (heads over y, rows over x and z).
layout(local_size_x = 64) in;

layout(std430, binding = 0) buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer Table { float table[]; };

layout(push_constant) uniform Push {
    uint n;
    uint head_dim;
    uint n_rot;
    uint neox;
    uint x_offset;
    uint x_stride;
    uint table_offset;
} p;

void main() {
    const uint row = gl_WorkGroupID.z * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    if (row >= p.n) return;
    const uint half_rot = p.n_rot / 2;
    const uint head = p.x_offset + row * p.x_stride + gl_WorkGroupID.y * p.head_dim;
    const uint angles = p.table_offset + row * p.n_rot;
    for (uint i = gl_LocalInvocationID.x; i < half_rot; i += 64) {
        const uint a = head + (p.neox != 0 ? i : 2 * i);
        const uint b = a + (p.neox != 0 ? half_rot : 1);
        const float c = table[angles + i];
        const float s = table[angles + half_rot + i];
        const float x0 = x[a];
        const float x1 = x[b];
        precise const float ya = x0 * c - x1 * s;
        precise const float yb = x0 * s + x1 * c;
        x[a] = ya;
        x[b] = yb;
    }
}
