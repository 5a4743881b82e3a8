// Norms: one workgroup per piece of NORM_WG invocations, which add up in shared memory. The
// pieces of a row go over y; rows over x and z (grid.h's row_groups).
#define NORM_WG 128
layout(local_size_x = NORM_WG) in;

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer Weight { float weight[]; };

// group: the width of a piece (the weight has as many floats); pieces lie back to back.
layout(push_constant) uniform Push {
    uint n;
    uint group;
    uint x_offset;
    uint x_stride;
    uint out_offset;
    uint out_stride;
    float eps;
} p;

shared float partial[NORM_WG];

// The sum of every invocation's v, returned to all of them.
float workgroup_sum(float v) {
    const uint tid = gl_LocalInvocationID.x;
    partial[tid] = v;
    barrier();
    for (uint s = NORM_WG / 2; s > 0; s >>= 1) {
        if (tid < s) partial[tid] += partial[tid + s];
        barrier();
    }
    const float sum = partial[0];
    barrier();  // before partial is written again
    return sum;
}

uint norm_row() {
    return gl_WorkGroupID.z * gl_NumWorkGroups.x + gl_WorkGroupID.x;
}
