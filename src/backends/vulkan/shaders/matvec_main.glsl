// The main of a matvec_<type>.comp shader: per row and vector, or tiled (see matvec_head.glsl).
// Both sum each output in the same canonical order, so a row's result does not depend on the
// path, nor on how many other vectors share the dispatch.
#ifndef ELEMENT_UNITS
uint units_in_row(uint cols) { return cols / 32u; }

// sum plus unit u's 32 products, one fma after another.
float add_unit(float sum, uint row_off, uint u, uint xo) {
    vec4 v[8];
    dequant_unit(row_off, u, v);
    const uint xb = xo + 32u * u;
    precise float s = sum;
    [[unroll]] for (uint k = 0; k < 8u; ++k) {
        [[unroll]] for (uint c = 0; c < 4u; ++c) s = fma(v[k][c], x[xb + 4u * k + c], s);
    }
    return s;
}
#endif

#ifdef VARIANT_TILED
#include "matvec_tiled_main.glsl"
#else
#include "matvec_rows_main.glsl"
#endif
