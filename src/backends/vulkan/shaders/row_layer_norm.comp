#version 450
// out = (x - mean) / sqrt(var + eps) * weight + bias per row (a single piece: group is the
// width). out may be x: each invocation writes only what it read.
#include "row_norm.glsl"

layout(std430, binding = 2) readonly buffer Bias { float bias[]; };
layout(std430, binding = 3) writeonly buffer Out { float out_[]; };

void main() {
    const uint row = norm_row();
    if (row >= p.n) return;
    const uint tid = gl_LocalInvocationID.x;
    const uint xo = p.x_offset + row * p.x_stride;
    float sum = 0.0;
    for (uint c = tid; c < p.group; c += NORM_WG) sum += x[xo + c];
    const float mean = workgroup_sum(sum) / float(p.group);
    float var = 0.0;
    for (uint c = tid; c < p.group; c += NORM_WG) {
        precise const float d = x[xo + c] - mean;
        var += d * d;
    }
    var = workgroup_sum(var);
    const float scale = 1.0 / sqrt(var / float(p.group) + p.eps);
    const uint oo = p.out_offset + row * p.out_stride;
    for (uint c = tid; c < p.group; c += NORM_WG) {
        precise const float y = (x[xo + c] - mean) * scale * weight[c] + bias[c];
        out_[oo + c] = y;
    }
}
