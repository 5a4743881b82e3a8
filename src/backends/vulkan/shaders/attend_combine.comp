#version 450
// Merges the partial attention results of a token's position splits (attend_main.glsl with
// SPLITS): with M the largest of the splits' maxima m_s and f_s = exp(m_s - M),
// out = sum_s f_s acc_s / sum_s f_s l_s. One workgroup per (token, query head).
#define WG_SIZE 64
#define MAX_SPLITS 64
layout(local_size_x = WG_SIZE) in;

layout(std430, binding = 0) readonly buffer Partials { float partials[]; };
layout(std430, binding = 1) writeonly buffer Output { float outputs[]; };

layout(push_constant) uniform Push {
    uint n;
    uint n_head;
    uint head_dim;
    uint splits;
    uint o_offset;
    uint o_stride;
} p;

shared float factor_s[MAX_SPLITS];

void main() {
    const uint t = gl_WorkGroupID.z * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    if (t >= p.n) return;  // the whole workgroup leaves
    const uint h = gl_WorkGroupID.y, tid = gl_LocalInvocationID.x;
    const uint rec_size = p.head_dim + 2u, rec0 = (t * p.n_head + h) * p.splits;
    float mx = partials[rec0 * rec_size + p.head_dim];
    for (uint s = 1u; s < p.splits; ++s) mx = max(mx, partials[(rec0 + s) * rec_size + p.head_dim]);
    for (uint s = tid; s < p.splits; s += WG_SIZE) {
        factor_s[s] = exp(partials[(rec0 + s) * rec_size + p.head_dim] - mx);
    }
    barrier();
    float l = 0.0;
    for (uint s = 0u; s < p.splits; ++s) l += factor_s[s] * partials[(rec0 + s) * rec_size + p.head_dim + 1u];
    const uint oo = p.o_offset + t * p.o_stride + h * p.head_dim;
    for (uint d = tid; d < p.head_dim; d += WG_SIZE) {
        float acc = 0.0;
        for (uint s = 0u; s < p.splits; ++s) acc += factor_s[s] * partials[(rec0 + s) * rec_size + d];
        outputs[oo + d] = acc / l;
    }
}
