#version 450
// y = x / sqrt(mean(x^2) + eps) * weight, row by row: one workgroup per row, the sum of squares
// added in shared memory.
#define WG_SIZE 64
layout(local_size_x = WG_SIZE) in;

layout(std430, binding = 0) readonly buffer Input { float x[]; };
layout(std430, binding = 1) readonly buffer Weight { float weight[]; };
layout(std430, binding = 2) writeonly buffer Output { float y[]; };

layout(push_constant) uniform Push {
    uint rows;
    uint cols;
    uint x_offset;
    uint x_stride;
    uint y_offset;
    uint y_stride;
    float eps;
} p;

shared float partial[WG_SIZE];

void main() {
    const uint row = gl_WorkGroupID.z * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    if (row >= p.rows) return;
    const uint tid = gl_LocalInvocationID.x;
    const uint xo = p.x_offset + row * p.x_stride;
    float sum = 0.0;
    for (uint c = tid; c < p.cols; c += WG_SIZE) sum += x[xo + c] * x[xo + c];
    partial[tid] = sum;
    barrier();
    for (uint s = WG_SIZE / 2; s > 0; s >>= 1) {
        if (tid < s) partial[tid] += partial[tid + s];
        barrier();
    }
    const float scale = 1.0 / sqrt(partial[0] / float(p.cols) + p.eps);
    const uint yo = p.y_offset + row * p.y_stride;
    for (uint c = tid; c < p.cols; c += WG_SIZE) y[yo + c] = x[xo + c] * scale * weight[c];
}
