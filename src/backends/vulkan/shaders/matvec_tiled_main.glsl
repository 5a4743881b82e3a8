// main() of the TILED variant (see matvec_head.glsl): a workgroup computes a tile of TILE_ROWS
// rows x TILE_VECS vectors of y. For each 32-column step its threads dequantize the tile's
// weight units into shared memory, each unit once for all the tile's vectors, and load the
// matching columns of x; then each thread accumulates a 4 x 4 block of the tile from shared
// memory. Rows and vectors past the end read as zeros and are not written.
#define TILE_ROWS 64
#define TILE_VECS 32
#define STEP 32
#define ROW_THREADS 16  // threads along the rows: TILE_ROWS / 4
#define VEC_THREADS 8   // along the vectors: TILE_VECS / 4 (ROW_THREADS * VEC_THREADS = WG_SIZE)

shared float w_tile[STEP][TILE_ROWS];
// One float of padding: a thread writes column k of vector v, its neighbour k+1, so without
// it the writes of a vector's 32 columns would all fall in one bank.
shared float x_tile[STEP][TILE_VECS + 1];

void main() {
    const uint tile = gl_WorkGroupID.z * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    const uint row0 = tile * TILE_ROWS;
    if (row0 >= p.rows) return;  // the whole workgroup leaves: no barrier is skipped by half
    const uint vec0 = gl_WorkGroupID.y * TILE_VECS;
    const uint tid = gl_LocalInvocationID.x;
    const uint tr = tid % ROW_THREADS, tv = tid / ROW_THREADS;

    float acc[4][4];
    [[unroll]] for (uint i = 0; i < 4u; ++i) {
        [[unroll]] for (uint j = 0; j < 4u; ++j) acc[i][j] = 0.0;
    }
    const uint steps = (p.cols + STEP - 1u) / STEP;
    for (uint s = 0; s < steps; ++s) {
        if (tid < TILE_ROWS) {
            vec4 v[8];
            const uint row = row0 + tid;
            if (row < p.rows) {
                dequant_unit(p.w_offset + row * p.row_bytes, s, v);
            } else {
                [[unroll]] for (uint k = 0; k < 8u; ++k) v[k] = vec4(0.0);
            }
            [[unroll]] for (uint k = 0; k < 8u; ++k) {
                w_tile[4u * k][tid] = v[k].x;
                w_tile[4u * k + 1u][tid] = v[k].y;
                w_tile[4u * k + 2u][tid] = v[k].z;
                w_tile[4u * k + 3u][tid] = v[k].w;
            }
        }
        for (uint i = tid; i < STEP * TILE_VECS; i += WG_SIZE) {
            const uint k = i % STEP, vt = i / STEP;
            const uint col = s * STEP + k, vec = vec0 + vt;
            float xv = 0.0;
            if (col < p.cols && vec < p.n_vec) xv = x[p.x_offset + vec * p.x_stride + col];
            x_tile[k][vt] = xv;
        }
        barrier();
        for (uint k = 0; k < STEP; ++k) {
            float wr[4], xc[4];
            [[unroll]] for (uint i = 0; i < 4u; ++i) wr[i] = w_tile[k][tr + ROW_THREADS * i];
            [[unroll]] for (uint j = 0; j < 4u; ++j) xc[j] = x_tile[k][tv + VEC_THREADS * j];
            [[unroll]] for (uint i = 0; i < 4u; ++i) {
                [[unroll]] for (uint j = 0; j < 4u; ++j) acc[i][j] += wr[i] * xc[j];
            }
        }
        barrier();
    }
    [[unroll]] for (uint j = 0; j < 4u; ++j) {
        const uint vec = vec0 + tv + VEC_THREADS * j;
        if (vec >= p.n_vec) continue;
        [[unroll]] for (uint i = 0; i < 4u; ++i) {
            const uint row = row0 + tr + ROW_THREADS * i;
            if (row < p.rows) y[p.y_offset + vec * p.y_stride + row] = acc[i][j];
        }
    }
}
