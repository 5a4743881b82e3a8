// For the plain types (f32, f16, bf16), whose file defines w_elem(row_off, i), element i of the
// row at byte row_off. The per-row main takes one element per unit (neighbouring threads read
// neighbouring elements); the tiled main's 32-element units stop at the row's end, so cols
// need not be a multiple of 32.
#define ELEMENT_UNITS

uint units_in_row(uint cols) { return cols; }

float unit_dot(uint row_off, uint u, uint xo) { return w_elem(row_off, u) * x[xo + u]; }

void dequant_unit(uint row_off, uint u, out vec4 v[8]) {
    [[unroll]] for (uint k = 0; k < 8u; ++k) {
        v[k] = vec4(0.0);
        [[unroll]] for (uint j = 0; j < 4u; ++j) {
            const uint i = 32u * u + 4u * k + j;
            if (i < p.cols) v[k][j] = w_elem(row_off, i);
        }
    }
}
