// main() of the matvec shaders per row and vector (see matvec_head.glsl): one workgroup of LANES
// threads per (row, vector), summing in the canonical order of matvec_head.glsl. Thread t is
// lane t: it adds units t, t + LANES, ... one after another, then the workgroup adds the lanes'
// sums as a tree in shared memory.
shared float partial[LANES];

void main() {
    // Rows beyond the grid's x limit (65535 on many devices) continue in z.
    const uint row = gl_WorkGroupID.z * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    if (row >= p.rows) return;  // the whole workgroup leaves: no barrier is skipped by half
    const uint vec = gl_WorkGroupID.y;
    const uint tid = gl_LocalInvocationID.x;
    const uint row_off = p.w_offset + row * p.row_bytes;
    const uint xo = p.x_offset + vec * p.x_stride;
    const uint n_units = units_in_row(p.cols);

    precise float sum = 0.0;
    for (uint u = tid; u < n_units; u += LANES) sum = sum + unit_dot(row_off, u, xo);
    partial[tid] = sum;
    barrier();
    for (uint s = LANES / 2u; s > 0u; s >>= 1) {
        if (tid < s) {
            precise const float both = partial[tid] + partial[tid + s];
            partial[tid] = both;
        }
        barrier();
    }
    if (tid == 0u) y[p.y_offset + vec * p.y_stride + row] = partial[0];
}
