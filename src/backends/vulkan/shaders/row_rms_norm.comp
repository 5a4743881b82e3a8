#version 450
// out = x / sqrt(mean(x^2) + eps) * weight for each `group`-wide piece of each row (the whole
// row, or each head for q/k norms). out may be x: each invocation writes only what it read.
#include "row_norm.glsl"

layout(std430, binding = 2) writeonly buffer Out { float out_[]; };

void main() {
    const uint row = norm_row();
    if (row >= p.n) return;
    const uint tid = gl_LocalInvocationID.x;
    const uint piece = gl_WorkGroupID.y * p.group;
    const uint xo = p.x_offset + row * p.x_stride + piece;
    float sum = 0.0;
    for (uint c = tid; c < p.group; c += NORM_WG) sum += x[xo + c] * x[xo + c];
    sum = workgroup_sum(sum);
    const float scale = 1.0 / sqrt(sum / float(p.group) + p.eps);
    const uint oo = p.out_offset + row * p.out_stride + piece;
    for (uint c = tid; c < p.group; c += NORM_WG) {
        precise const float y = x[xo + c] * scale * weight[c];
        out_[oo + c] = y;
    }
}
