// The common part of the kv_attend_<type>.comp shaders: attention over the paged KV cache
// (kernels/cpu/kv_cache.h has the layout), bound as 32-bit words. Token t's position is
// positions[t]; its sequence's page table starts at pages[table_start[t]]. Each type's file
// defines row_elem(), reading element kv_elem0 + d of a row, then includes attend_main.glsl.
// Positions may be split among workgroups (SPLITS in attend_main.glsl).
#extension GL_GOOGLE_include_directive : require
#define SPLITS
#define PUSH_EXTRA \
    uint layer;       \
    uint window;      \
    uint row_bytes;   \
    uint page_words;  \
    uint layer_words; \
    uint page_shift;  \
    uint splits;
#include "attend_head.glsl"
#include "kv_window.glsl"

layout(std430, binding = 2) readonly buffer Pool { uint pool[]; };
layout(std430, binding = 3) readonly buffer Positions { uint positions[]; };
layout(std430, binding = 4) readonly buffer TableStart { uint table_start[]; };
layout(std430, binding = 5) readonly buffer Pages { uint pages[]; };
layout(std430, binding = 6) writeonly buffer Partials { float partials[]; };

uint table0;    // the token's page table
uint kv_elem0;  // its key/value head's first element in a row

void begin_token(uint t, uint kv_head, out uint first, out uint last) {
    last = positions[t];
    first = first_visible(last, p.window);
    table0 = table_start[t];
    kv_elem0 = kv_head * p.head_dim;
}

// x: the word where the row's page and layer begin; y: the row's byte from there.
uvec2 key_row(uint j) {
    const uint page = pages[table0 + (j >> p.page_shift)];
    const uint r = j & ((1u << p.page_shift) - 1u);
    return uvec2(page * p.page_words + p.layer * p.layer_words, r * p.row_bytes);
}

uvec2 value_row(uint j) {
    const uvec2 k = key_row(j);
    return uvec2(k.x, k.y + (p.row_bytes << p.page_shift));  // after the layer's keys
}

// The 16 bits at an even byte of the row.
uint row_u16(uvec2 row, uint byte) {
    const uint b = row.y + byte;
    return (pool[row.x + (b >> 2)] >> ((b & 2u) << 3)) & 0xFFFFu;
}

// The signed byte at any byte of the row.
int row_i8(uvec2 row, uint byte) {
    const uint b = row.y + byte;
    return bitfieldExtract(int(pool[row.x + (b >> 2)]), int((b & 3u) << 3), 8);
}
