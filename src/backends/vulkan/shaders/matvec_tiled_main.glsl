// main() of the TILED variant (see matvec_head.glsl): a workgroup computes a tile of TILE_ROWS
// rows x TILE_VECS vectors of y, each thread a 4 x 4 block of it, in the canonical order of
// matvec_head.glsl. It walks the lanes in order, and each lane's units in turn: for each step
// its threads dequantize the tile's weight unit into shared memory, once for all the tile's
// vectors, and load the matching columns of x; each thread then adds the step's products to
// its lane sums (fma). A finished lane sum is added to the total. Rows and vectors past the
// end read as zeros and are not written.
#define TILE_ROWS 64
#define TILE_VECS 32
#define ROW_THREADS 16  // threads along the rows: TILE_ROWS / 4
#define VEC_THREADS 8   // along the vectors: TILE_VECS / 4 (ROW_THREADS * VEC_THREADS = WG_SIZE)

#ifndef ELEMENT_UNITS
// A step is one unit: its 32 consecutive columns.
uint step_col(uint u0, uint j) { return 32u * u0 + j; }
void step_weights(uint row_off, uint u0, out vec4 v[8]) { dequant_unit(row_off, u0, v); }
#define STEP_UNITS 1u
#else
// A step is 32 units (elements) of one lane (step_col in matvec_plain.glsl).
#define STEP_UNITS 32u
#endif

shared float w_tile[32][TILE_ROWS];
// One float of padding: a thread writes column k of vector v, its neighbour k+1, so without
// it the writes of a vector's 32 columns would all fall in one bank.
shared float x_tile[32][TILE_VECS + 1];

void main() {
    const uint tile = gl_WorkGroupID.z * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    const uint row0 = tile * TILE_ROWS;
    if (row0 >= p.rows) return;  // the whole workgroup leaves: no barrier is skipped by half
    const uint vec0 = gl_WorkGroupID.y * TILE_VECS;
    const uint tid = gl_LocalInvocationID.x;
    const uint tr = tid % ROW_THREADS, tv = tid / ROW_THREADS;
    const uint n_units = units_in_row(p.cols);

    precise float lane_sum[4][4];
    precise float total[4][4];
    for (uint lane = 0; lane < LANES; ++lane) {
        [[unroll]] for (uint i = 0; i < 4u; ++i) {
            [[unroll]] for (uint j = 0; j < 4u; ++j) lane_sum[i][j] = 0.0;
        }
        const uint end = lane_begin(lane + 1u, n_units);
        for (uint u0 = lane_begin(lane, n_units); u0 < end; u0 += STEP_UNITS) {
            if (tid < TILE_ROWS) {
                vec4 v[8];
                const uint row = row0 + tid;
                if (row < p.rows) {
                    step_weights(p.w_offset + row * p.row_bytes, u0, v);
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
            for (uint i = tid; i < 32u * TILE_VECS; i += WG_SIZE) {
                const uint k = i % 32u, vt = i / 32u;
                const uint col = step_col(u0, k), vec = vec0 + vt;
                float xv = 0.0;
                if (col < p.cols && vec < p.n_vec) xv = x[p.x_offset + vec * p.x_stride + col];
                x_tile[k][vt] = xv;
            }
            barrier();
#ifdef ELEMENT_UNITS
            // The step's units that exist (uniform): past the row's end nothing is added.
            const uint n_step = min(32u, end - u0);
#else
            const uint n_step = 32u;
#endif
            for (uint k = 0; k < n_step; ++k) {
                float wr[4], xc[4];  // each shared value read once
                [[unroll]] for (uint i = 0; i < 4u; ++i) wr[i] = w_tile[k][tr + ROW_THREADS * i];
                [[unroll]] for (uint j = 0; j < 4u; ++j) xc[j] = x_tile[k][tv + VEC_THREADS * j];
                [[unroll]] for (uint i = 0; i < 4u; ++i) {
                    [[unroll]] for (uint j = 0; j < 4u; ++j) {
                        lane_sum[i][j] = fma(wr[i], xc[j], lane_sum[i][j]);
                    }
                }
            }
            barrier();
        }
        [[unroll]] for (uint i = 0; i < 4u; ++i) {
            [[unroll]] for (uint j = 0; j < 4u; ++j) {
                total[i][j] = lane == 0u ? lane_sum[i][j] : total[i][j] + lane_sum[i][j];
            }
        }
    }
    [[unroll]] for (uint j = 0; j < 4u; ++j) {
        const uint vec = vec0 + tv + VEC_THREADS * j;
        if (vec >= p.n_vec) continue;
        [[unroll]] for (uint i = 0; i < 4u; ++i) {
            const uint row = row0 + tr + ROW_THREADS * i;
            if (row < p.rows) y[p.y_offset + vec * p.y_stride + row] = total[i][j];
        }
    }
}
