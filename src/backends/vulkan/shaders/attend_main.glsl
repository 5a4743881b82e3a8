// main() of the attention shaders: out = softmax(q K^T * scale [soft-capped]) V, in fp32, with
// the online softmax of flash attention. A workgroup takes one token and up to MAX_HEADS query
// heads that share a key/value head; it walks the token's visible positions in tiles of TILE:
//   1. thread j scores position j of the tile against every head (one pass over its key row),
//   2. each head's running maximum m moves to the tile's, rescaling by alpha = exp(m_old - m),
//   3. the scores become weights exp(s - m), summed per head into l,
//   4. thread d adds the tile's weighted values of dimension d (and d + WG_SIZE) to its
//      accumulators, one per head, each value read once.
// The output is acc / l. With SPLITS defined (push constant `splits`, binding `partials`), a
// token's tiles are shared among `splits` workgroups, each writing its unnormalized acc, m and
// l for attend_combine.comp to merge (flash decoding: one token alone fills more of the device).
// The including file provides, before this file:
//   void begin_token(uint t, uint kv_head, out uint first, out uint last)  visible positions
//   uvec2 key_row(uint j), uvec2 value_row(uint j)                          where a row lies
//   float row_elem(uvec2 row, uint d)                                       dimension d of it
#define WG_SIZE 128
#define TILE WG_SIZE
#define MAX_HEADS 8
#define MAX_DIM 256
#define SLICES 16  // per head, of TILE / SLICES weights, for the tile's max and sum
#define NEG_BIG (-3.0e38)  // below every score; exp(NEG_BIG - m) is 0 with no inf - inf

layout(local_size_x = WG_SIZE) in;

shared float q_s[MAX_HEADS * MAX_DIM];
shared float w_s[MAX_HEADS * TILE];  // scores, then weights
shared float part_s[MAX_HEADS * SLICES];
shared float m_s[MAX_HEADS], l_s[MAX_HEADS], alpha_s[MAX_HEADS];

void main() {
    const uint t = gl_WorkGroupID.z * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    if (t >= p.n) return;  // the whole workgroup leaves
    const uint tid = gl_LocalInvocationID.x;
    const uint hd = p.head_dim;
    const uint chunks = (p.group + MAX_HEADS - 1u) / MAX_HEADS;
#ifdef SPLITS
    const uint split = gl_WorkGroupID.y % p.splits, head_block = gl_WorkGroupID.y / p.splits;
#else
    const uint head_block = gl_WorkGroupID.y;
#endif
    const uint kv_head = head_block / chunks;
    const uint g0 = (head_block % chunks) * MAX_HEADS;
    const uint ng = min(uint(MAX_HEADS), p.group - g0);
    const uint h0 = kv_head * p.group + g0;  // first query head
    uint first, last;
    begin_token(t, kv_head, first, last);
    uint begin = first, end = last + 1u;
#ifdef SPLITS
    const uint n_tiles = (last - first + TILE) / TILE;
    const uint per_split = (n_tiles + p.splits - 1u) / p.splits;
    begin = first + min(split * per_split, n_tiles) * TILE;
    end = min(end, first + min((split + 1u) * per_split, n_tiles) * TILE);
#endif

    const uint qo = p.q_offset + t * p.q_stride + h0 * hd;
    for (uint i = tid; i < ng * hd; i += WG_SIZE) q_s[i] = queries[qo + i];
    if (tid < ng) {
        m_s[tid] = NEG_BIG;
        l_s[tid] = 0.0;
    }
    float acc[MAX_HEADS][2];
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

#ifdef SPLITS
    if (p.splits > 1u) {
        // Record (token, head, split) of head_dim + 2 floats: acc, then m and l.
        const uint n_head = gl_NumWorkGroups.y / p.splits / chunks * p.group;
        const uint rec0 = (t * n_head + h0) * p.splits + split, rec_size = hd + 2u;
        for (uint c = 0u; c < 2u; ++c) {
            const uint d = tid + c * WG_SIZE;
            if (d >= hd) break;
            for (uint g = 0u; g < MAX_HEADS; ++g) {
                if (g < ng) partials[(rec0 + g * p.splits) * rec_size + d] = acc[g][c];
            }
        }
        if (tid < ng) {
            partials[(rec0 + tid * p.splits) * rec_size + hd] = m_s[tid];
            partials[(rec0 + tid * p.splits) * rec_size + hd + 1u] = l_s[tid];
        }
        return;
    }
#endif
    const uint oo = p.o_offset + t * p.o_stride + h0 * hd;
    for (uint c = 0u; c < 2u; ++c) {
        const uint d = tid + c * WG_SIZE;
        if (d >= hd) break;
        for (uint g = 0u; g < MAX_HEADS; ++g) {
            if (g < ng) outputs[oo + g * hd + d] = acc[g][c] / l_s[g];
        }
    }
}
