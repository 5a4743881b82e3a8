// For the plain types (f32, f16, bf16), whose file defines w_elem(row_off, i), element i of the
// row at byte row_off. A unit is one element; the tiled main loads a lane's elements 32 at a
// time (step_weights).
#define ELEMENT_UNITS

uint units_in_row(uint cols) { return cols; }

float add_unit(float sum, uint row_off, uint u, uint xo) {
    precise const float s = fma(w_elem(row_off, u), x[xo + u], sum);
    return s;
}

// Column of element j (0..31) of the step that starts at unit u0 (matvec_tiled_main.glsl).
uint step_col(uint u0, uint j) { return u0 + j; }

void step_weights(uint row_off, uint u0, out vec4 v[8]) {
    [[unroll]] for (uint k = 0; k < 8u; ++k) {
        v[k] = vec4(0.0);
        [[unroll]] for (uint j = 0; j < 4u; ++j) {
            const uint i = step_col(u0, 4u * k + j);
            if (i < p.cols) v[k][j] = w_elem(row_off, i);
        }
    }
}
