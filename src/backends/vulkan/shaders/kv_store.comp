#version 450
// Stores each token's keys and values in the paged KV cache (kernels/cpu/kv_cache.h has the
// layout), converted to the cache type exactly as KvCache::store does. Workgroup (token, y):
// y = 0 stores the keys, 1 the values.
//
// The pool is bound as 32-bit words, and rows start at any even byte (F16 rows of an odd
// element count, Q8_0 rows of an odd block count), so a row is written as 16-bit halves: each
// thread takes whole words, writing those inside the row directly and, with atomic and/or, the
// half of an edge word the row shares with its neighbour (another workgroup may write the other).
#extension GL_GOOGLE_include_directive : require
#include "float_bits.glsl"

#define WG_SIZE 64
#define MAX_BLOCKS 512  // Q8_0 blocks per row: row_elems <= 16384
layout(local_size_x = WG_SIZE) in;

layout(std430, binding = 0) buffer Pool { uint pool[]; };
layout(std430, binding = 1) readonly buffer Keys { float keys[]; };
layout(std430, binding = 2) readonly buffer Values { float values[]; };
layout(std430, binding = 3) readonly buffer Positions { uint positions[]; };
layout(std430, binding = 4) readonly buffer TableStart { uint table_start[]; };
layout(std430, binding = 5) readonly buffer Pages { uint pages[]; };

#define TYPE_F16 0u
#define TYPE_F32 1u
#define TYPE_Q8_0 2u

layout(push_constant) uniform Push {
    uint n;
    uint layer;
    uint k_offset;
    uint k_stride;
    uint v_offset;
    uint v_stride;
    uint row_elems;
    uint row_bytes;
    uint page_words;
    uint layer_words;
    uint page_shift;
    uint type;
} p;

shared uint scale_bits[MAX_BLOCKS];  // Q8_0: each block's fp16 scale
shared float inv_scale[MAX_BLOCKS];  // and the factor its values are multiplied by

uint src_base;

float src(uint i) {
    return gl_WorkGroupID.y == 0u ? keys[src_base + i] : values[src_base + i];
}

int quant(float x, float id) {
    precise float v = x * id;
    return round_away(v);
}

// Half h (bytes 2h, 2h+1) of the row in the cache type.
uint row_half(uint h) {
    if (p.type == TYPE_F16) return f32_to_f16_bits(src(h));
    if (p.type == TYPE_F32) {
        const uint bits = floatBitsToUint(src(h >> 1));
        return (h & 1u) == 0u ? bits & 0xFFFFu : bits >> 16;
    }
    // Q8_0: a block is 17 halves, the scale and 16 pairs of quants.
    const uint b = h / 17u, k = h % 17u;
    if (k == 0u) return scale_bits[b];
    const uint e = 32u * b + 2u * (k - 1u);
    const float id = inv_scale[b];
    return (uint(quant(src(e), id)) & 0xFFu) | ((uint(quant(src(e + 1u), id)) & 0xFFu) << 8);
}

void main() {
    const uint t = gl_WorkGroupID.z * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    if (t >= p.n) return;  // the whole workgroup leaves
    const uint tid = gl_LocalInvocationID.x;
    const bool is_value = gl_WorkGroupID.y == 1u;
    src_base = is_value ? p.v_offset + t * p.v_stride : p.k_offset + t * p.k_stride;

    if (p.type == TYPE_Q8_0) {
        for (uint b = tid; b < p.row_elems / 32u; b += WG_SIZE) {
            float amax = 0.0;
            for (uint i = 0u; i < 32u; ++i) amax = max(amax, abs(src(32u * b + i)));
            const float d = div_rn(amax, 127.0);
            scale_bits[b] = f32_to_f16_bits(d);
            inv_scale[b] = d != 0.0 ? div_rn(1.0, d) : 0.0;
        }
    }
    barrier();

    const uint pos = positions[t];
    const uint page = pages[table_start[t] + (pos >> p.page_shift)];
    const uint page_rows = 1u << p.page_shift;
    const uint base = page * p.page_words + p.layer * p.layer_words;
    // Byte of the row within its layer: the layer's keys, then its values.
    const uint row = ((pos & (page_rows - 1u)) + (is_value ? page_rows : 0u)) * p.row_bytes;
    const uint first_word = row >> 2, end_word = (row + p.row_bytes + 3u) >> 2;
    for (uint w = first_word + tid; w < end_word; w += WG_SIZE) {
        uint bits = 0u, mask = 0u;
        for (uint i = 0u; i < 2u; ++i) {
            const uint byte = 4u * w + 2u * i;
            if (byte >= row && byte < row + p.row_bytes) {
                bits |= row_half((byte - row) >> 1) << (16u * i);
                mask |= 0xFFFFu << (16u * i);
            }
        }
        if (mask == 0xFFFFFFFFu) {
            pool[base + w] = bits;
        } else {
            atomicAnd(pool[base + w], ~mask);
            atomicOr(pool[base + w], bits);
        }
    }
}
