#version 450
// Folds the blocks' partial attention results that split workgroups wrote (attend_main.glsl
// with SPLITS): per (token, query head), records of head_dim + 2 floats (acc, then m and l) at
// (token * n_head + head) * MAX_BLOCKS + block, folded in block order exactly as the unsplit
// shader folds them in registers (attend_fold.glsl), so the output has the same bits.
// One workgroup per (token, query head).
#extension GL_GOOGLE_include_directive : require
#include "attend_fold.glsl"
#include "kv_window.glsl"
#define WG_SIZE 64
layout(local_size_x = WG_SIZE) in;

layout(std430, binding = 0) readonly buffer Partials { float partials[]; };
layout(std430, binding = 1) writeonly buffer Output { float outputs[]; };
layout(std430, binding = 2) readonly buffer Positions { uint positions[]; };

layout(push_constant) uniform Push {
    uint n;
    uint n_head;
    uint head_dim;
    uint window;
    uint o_offset;
    uint o_stride;
} p;

shared float f_s[MAX_BLOCKS], fb_s[MAX_BLOCKS];  // block b's fold factors (from 1)
shared float l_s;

void main() {
    const uint t = gl_WorkGroupID.z * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    if (t >= p.n) return;  // the whole workgroup leaves
    const uint h = gl_WorkGroupID.y, tid = gl_LocalInvocationID.x;
    const uint last = positions[t];
    const uint n_blocks = block_count(tile_count(first_visible(last, p.window), last));
    const uint rec_size = p.head_dim + 2u, rec0 = (t * p.n_head + h) * MAX_BLOCKS;
    if (tid == 0u) {
        float m = partials[rec0 * rec_size + p.head_dim];
        float l = partials[rec0 * rec_size + p.head_dim + 1u];
        for (uint b = 1u; b < n_blocks; ++b) {
            float mx, f, fb;
            fold_factors(m, partials[(rec0 + b) * rec_size + p.head_dim], mx, f, fb);
            l = fold_term(l, f, partials[(rec0 + b) * rec_size + p.head_dim + 1u], fb);
            m = mx;
            f_s[b] = f;
            fb_s[b] = fb;
        }
        l_s = l;
    }
    barrier();
    const uint oo = p.o_offset + t * p.o_stride + h * p.head_dim;
    for (uint d = tid; d < p.head_dim; d += WG_SIZE) {
        float acc = partials[rec0 * rec_size + d];
        for (uint b = 1u; b < n_blocks; ++b) {
            acc = fold_term(acc, f_s[b], partials[(rec0 + b) * rec_size + d], fb_s[b]);
        }
        outputs[oo + d] = normalized(acc, l_s);
    }
}
