// main() of the matvec shaders per row and vector (see matvec_head.glsl): a workgroup takes
// GROUP_ROWS rows of one vector, LANES threads per row, summing in the canonical order of
// matvec_head.glsl. Thread t of a row is lane t: it adds its run of units one after
// another, then lane 0 adds the row's lane sums in order from shared memory.
#define GROUP_ROWS (WG_SIZE / LANES)

shared float partial[WG_SIZE];

void main() {
    // Row groups beyond the grid's x limit (65535 on many devices) continue in z.
    const uint row0 = (gl_WorkGroupID.z * gl_NumWorkGroups.x + gl_WorkGroupID.x) * GROUP_ROWS;
    if (row0 >= p.rows) return;  // the whole workgroup leaves: no barrier is skipped by half
    const uint vec = gl_WorkGroupID.y;
    const uint tid = gl_LocalInvocationID.x;
    const uint lane = tid % LANES, row = row0 + tid / LANES;
    const uint row_off = p.w_offset + row * p.row_bytes;
    const uint xo = p.x_offset + vec * p.x_stride;
    const uint n_units = row < p.rows ? units_in_row(p.cols) : 0u;

    precise float sum = 0.0;
    const uint end = lane_begin(lane + 1u, n_units);
    for (uint u = lane_begin(lane, n_units); u < end; ++u) sum = add_unit(sum, row_off, u, xo);
    partial[tid] = sum;
    barrier();
    if (lane == 0u && row < p.rows) {
        precise float total = sum;
        [[unroll]] for (uint i = 1u; i < LANES; ++i) total = total + partial[tid + i];
        y[p.y_offset + vec * p.y_stride + row] = total;
    }
}
