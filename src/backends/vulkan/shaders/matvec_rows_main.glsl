// main() of the matvec shaders per row and vector (see matvec_head.glsl). A thread takes the
// row's units in turn (32 elements, or one for the plain types, see matvec_plain.glsl), summing
// its own, then the workgroup adds the partial sums. Built twice: the plain variant adds the
// 64 partial sums as a tree in shared memory; VARIANT_SUBGROUP (for devices with subgroup
// arithmetic in compute shaders) adds within each subgroup first, leaving one value per
// subgroup for shared memory (its extension is enabled in matvec_head.glsl). Either is right
// for any subgroup size.
#ifndef ELEMENT_UNITS
uint units_in_row(uint cols) { return cols / 32u; }

float unit_dot(uint row_off, uint u, uint xo) {
    vec4 v[8];
    dequant_unit(row_off, u, v);
    const uint xb = xo + 32u * u;
    float s = 0.0;
    [[unroll]] for (uint k = 0; k < 8u; ++k) {
        const uint i = xb + 4u * k;
        s += dot(v[k], vec4(x[i], x[i + 1u], x[i + 2u], x[i + 3u]));
    }
    return s;
}
#endif

shared float partial[WG_SIZE];

void main() {
    // Rows beyond the grid's x limit (65535 on many devices) continue in z.
    const uint row = gl_WorkGroupID.z * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    if (row >= p.rows) return;  // the whole workgroup leaves: no barrier is skipped by half
    const uint vec = gl_WorkGroupID.y;
    const uint tid = gl_LocalInvocationID.x;
    const uint row_off = p.w_offset + row * p.row_bytes;
    const uint xo = p.x_offset + vec * p.x_stride;
    const uint n_units = units_in_row(p.cols);

    float sum = 0.0;
    for (uint u = tid; u < n_units; u += WG_SIZE) sum += unit_dot(row_off, u, xo);
#ifdef VARIANT_SUBGROUP
    sum = subgroupAdd(sum);
    if (subgroupElect()) partial[gl_SubgroupID] = sum;
    barrier();
    if (tid == 0) {
        float total = 0.0;
        for (uint i = 0; i < gl_NumSubgroups; ++i) total += partial[i];
        y[p.y_offset + vec * p.y_stride + row] = total;
    }
#else
    partial[tid] = sum;
    barrier();
    for (uint s = WG_SIZE / 2; s > 0; s >>= 1) {
        if (tid < s) partial[tid] += partial[tid + s];
        barrier();
    }
    if (tid == 0) y[p.y_offset + vec * p.y_stride + row] = partial[0];
#endif
}
