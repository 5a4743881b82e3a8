// The main of a matvec_<type>.comp shader: per row and vector, or tiled (see matvec_head.glsl).
// Both sum each output in the same canonical order, so a row's result does not depend on the
// path, nor on how many other vectors share the dispatch.
#ifndef ELEMENT_UNITS
uint units_in_row(uint cols) { return cols / 32u; }

// One unit's 32 products, in the canonical order: unit_sum over the 8 groups of 4.
float unit_dot(uint row_off, uint u, uint xo) {
    vec4 v[8];
    dequant_unit(row_off, u, v);
    const uint xb = xo + 32u * u;
    precise float s = 0.0;
    [[unroll]] for (uint k = 0; k < 8u; ++k) {
        const uint i = xb + 4u * k;
        s = s + dot4(v[k], vec4(x[i], x[i + 1u], x[i + 2u], x[i + 3u]));
    }
    return s;
}
#endif

#ifdef VARIANT_TILED
#include "matvec_tiled_main.glsl"
#else
#include "matvec_rows_main.glsl"
#endif
