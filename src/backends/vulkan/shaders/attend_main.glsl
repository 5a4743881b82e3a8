// main() of the attention shaders: out = softmax(q K^T * scale [soft-capped]) V, in fp32, with
// the online softmax of flash attention. A workgroup takes one token and up to MAX_HEADS query
// heads that share a key/value head; it walks the blocks of the token's visible positions
// (attend_fold.glsl: their order fixes the output's bits), each from scratch in tiles of TILE:
//   1. thread j scores position j of the tile against every head (one pass over its key row),
//   2. each head's running maximum m moves to the tile's, rescaling by alpha = exp(m_old - m),
//   3. the scores become weights exp(s - m), summed per head into l,
//   4. thread d adds the tile's weighted values of dimension d (and d + WG_SIZE) to its
//      accumulators, one per head, each value read once.
// and folds each block's (m, l, acc) into the token's, whose output is acc / l. With SPLITS
// defined (push constant `splits`, binding `partials`), a token's blocks are shared among
// `splits` workgroups, each writing every block's (m, l, acc) for attend_combine.comp to fold
// (flash decoding: one token alone fills more of the device), with the same result.
// The including file provides, before this file:
//   void begin_token(uint t, uint kv_head, out uint first, out uint last)  visible positions
//   uvec2 key_row(uint j), uvec2 value_row(uint j)                          where a row lies
//   float row_elem(uvec2 row, uint d)                                       dimension d of it
#include "attend_fold.glsl"
#define WG_SIZE TILE  // a thread per position of a tile
#define MAX_HEADS 8
#define MAX_DIM 256
#define SLICES 16  // per head, of TILE / SLICES weights, for the tile's max and sum
#define NEG_BIG (-3.0e38)  // below every score; exp(NEG_BIG - m) is 0 with no inf - inf

layout(local_size_x = WG_SIZE) in;

shared float q_s[MAX_HEADS * MAX_DIM];
shared float w_s[MAX_HEADS * TILE];  // scores, then weights
shared float part_s[MAX_HEADS * SLICES];
shared float m_s[MAX_HEADS], l_s[MAX_HEADS], alpha_s[MAX_HEADS];  // the block's
shared float fold_m_s[MAX_HEADS], fold_l_s[MAX_HEADS], fold_b_s[MAX_HEADS];  // the token's

uint tid, hd, ng;           // this thread, the head size, the heads of this workgroup
float acc[MAX_HEADS][2];    // the block's accumulators: dimensions tid and tid + WG_SIZE
float fold_acc[MAX_HEADS][2];  // the token's: the fold of its blocks so far

// The block [begin, end) from scratch: its m and l per head in m_s and l_s, its acc in acc. The
// query heads are in q_s (a barrier after they were written is this function's first).
void attend_block(uint begin, uint end) {
    if (tid < ng) {
        m_s[tid] = NEG_BIG;
        l_s[tid] = 0.0;
    }
    for (uint g = 0u; g < MAX_HEADS; ++g) acc[g][0] = acc[g][1] = 0.0;
    barrier();
    const uint slice_head = tid / SLICES, slice = tid % SLICES;
    const uint slice_len = TILE / SLICES;
    for (uint start = begin; start < end; start += TILE) {
        const uint len = min(uint(TILE), end - start);
        // 1. scores
        if (tid < len) {
            const uvec2 k = key_row(start + tid);
            float dot[MAX_HEADS];
            for (uint g = 0u; g < MAX_HEADS; ++g) dot[g] = 0.0;
            for (uint d = 0u; d < hd; ++d) {
                const float kd = row_elem(k, d);
                for (uint g = 0u; g < MAX_HEADS; ++g) {
                    if (g < ng) dot[g] += q_s[g * hd + d] * kd;
                }
            }
            for (uint g = 0u; g < ng; ++g) {
                float s = dot[g] * p.scale;
                // tanh is 1.0f from 9.1 on; the clamp spares devices whose tanh divides
                // overflowing exponentials there.
                if (p.softcap > 0.0) s = p.softcap * tanh(clamp(s / p.softcap, -15.0, 15.0));
                w_s[g * TILE + tid] = s;
            }
        } else {
            for (uint g = 0u; g < ng; ++g) w_s[g * TILE + tid] = NEG_BIG;
        }
        barrier();
        // 2. the new maxima
        if (slice_head < ng) {
            float mx = NEG_BIG;
            for (uint i = 0u; i < slice_len; ++i) {
                mx = max(mx, w_s[slice_head * TILE + slice * slice_len + i]);
            }
            part_s[slice_head * SLICES + slice] = mx;
        }
        barrier();
        if (tid < ng) {
            float mx = m_s[tid];
            for (uint i = 0u; i < SLICES; ++i) mx = max(mx, part_s[tid * SLICES + i]);
            alpha_s[tid] = exp(m_s[tid] - mx);
            m_s[tid] = mx;
        }
        barrier();
        // 3. weights and their sums
        for (uint i = tid; i < ng * TILE; i += WG_SIZE) w_s[i] = exp(w_s[i] - m_s[i / TILE]);
        barrier();
        if (slice_head < ng) {
            float sum = 0.0;
            for (uint i = 0u; i < slice_len; ++i) {
                sum += w_s[slice_head * TILE + slice * slice_len + i];
            }
            part_s[slice_head * SLICES + slice] = sum;
        }
        // 4. values
        for (uint c = 0u; c < 2u; ++c) {
            const uint d = tid + c * WG_SIZE;
            if (d >= hd) break;
            for (uint g = 0u; g < MAX_HEADS; ++g) acc[g][c] *= g < ng ? alpha_s[g] : 1.0;
            for (uint j = 0u; j < len; ++j) {
                const float v = row_elem(value_row(start + j), d);
                for (uint g = 0u; g < MAX_HEADS; ++g) {
                    if (g < ng) acc[g][c] += w_s[g * TILE + j] * v;
                }
            }
        }
        barrier();
        if (tid < ng) {
            float sum = 0.0;
            for (uint i = 0u; i < SLICES; ++i) sum += part_s[tid * SLICES + i];
            l_s[tid] = l_s[tid] * alpha_s[tid] + sum;
        }
        // The next tile writes w_s, part_s and alpha_s only after its first barrier, which
        // these threads reach after reading them.
    }
    barrier();
}

// Folds the block in m_s, l_s and acc into the token's fold_m_s, fold_l_s and fold_acc
// (attend_fold.glsl); `first`: the token's first block, which starts the fold.
void fold_block(bool first) {
    if (first) {
        if (tid < ng) {
            fold_m_s[tid] = m_s[tid];
            fold_l_s[tid] = l_s[tid];
        }
        for (uint g = 0u; g < MAX_HEADS; ++g) {
            fold_acc[g][0] = acc[g][0];
            fold_acc[g][1] = acc[g][1];
        }
        return;
    }
    if (tid < ng) {
        float mx, f, fb;
        fold_factors(fold_m_s[tid], m_s[tid], mx, f, fb);
        fold_l_s[tid] = fold_term(fold_l_s[tid], f, l_s[tid], fb);
        fold_m_s[tid] = mx;
        alpha_s[tid] = f;
        fold_b_s[tid] = fb;
    }
    barrier();
    for (uint c = 0u; c < 2u; ++c) {
        for (uint g = 0u; g < MAX_HEADS; ++g) {
            if (g < ng) {
                fold_acc[g][c] = fold_term(fold_acc[g][c], alpha_s[g], acc[g][c], fold_b_s[g]);
            }
        }
    }
    // The next block writes alpha_s and fold_b_s only after two barriers.
}

void main() {
    const uint t = gl_WorkGroupID.z * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    if (t >= p.n) return;  // the whole workgroup leaves
    tid = gl_LocalInvocationID.x;
    hd = p.head_dim;
    const uint chunks = (p.group + MAX_HEADS - 1u) / MAX_HEADS;
#ifdef SPLITS
    const uint split = gl_WorkGroupID.y % p.splits, head_block = gl_WorkGroupID.y / p.splits;
#else
    const uint head_block = gl_WorkGroupID.y;
#endif
    const uint kv_head = head_block / chunks;
    const uint g0 = (head_block % chunks) * MAX_HEADS;
    ng = min(uint(MAX_HEADS), p.group - g0);
    const uint h0 = kv_head * p.group + g0;  // first query head
    uint first, last;
    begin_token(t, kv_head, first, last);
    const uint n_tiles = tile_count(first, last);
    const uint per_block = block_tiles(n_tiles) * TILE;  // positions
    const uint n_blocks = block_count(n_tiles);
    uint b_begin = 0u, b_end = n_blocks;
#ifdef SPLITS
    const uint per_split = (n_blocks + p.splits - 1u) / p.splits;
    b_begin = min(split * per_split, n_blocks);
    b_end = min(b_begin + per_split, n_blocks);
#endif

    const uint qo = p.q_offset + t * p.q_stride + h0 * hd;
    for (uint i = tid; i < ng * hd; i += WG_SIZE) q_s[i] = queries[qo + i];
    for (uint b = b_begin; b < b_end; ++b) {
        const uint begin = first + b * per_block;
        attend_block(begin, min(last + 1u, begin + per_block));
#ifdef SPLITS
        if (p.splits > 1u) {
            // Record (token, head, block) of head_dim + 2 floats: acc, then m and l.
            const uint n_head = gl_NumWorkGroups.y / p.splits / chunks * p.group;
            const uint rec0 = (t * n_head + h0) * MAX_BLOCKS + b, rec_size = hd + 2u;
            for (uint c = 0u; c < 2u; ++c) {
                const uint d = tid + c * WG_SIZE;
                if (d >= hd) break;
                for (uint g = 0u; g < MAX_HEADS; ++g) {
                    if (g < ng) partials[(rec0 + g * MAX_BLOCKS) * rec_size + d] = acc[g][c];
                }
            }
            if (tid < ng) {
                partials[(rec0 + tid * MAX_BLOCKS) * rec_size + hd] = m_s[tid];
                partials[(rec0 + tid * MAX_BLOCKS) * rec_size + hd + 1u] = l_s[tid];
            }
            continue;
        }
#endif
        fold_block(b == 0u);
    }
#ifdef SPLITS
    if (p.splits > 1u) return;
#endif
    barrier();
    const uint oo = p.o_offset + t * p.o_stride + h0 * hd;
    for (uint c = 0u; c < 2u; ++c) {
        const uint d = tid + c * WG_SIZE;
        if (d >= hd) break;
        for (uint g = 0u; g < MAX_HEADS; ++g) {
            if (g < ng) outputs[oo + g * hd + d] = normalized(fold_acc[g][c], fold_l_s[g]);
        }
    }
}
