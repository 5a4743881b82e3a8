#version 450
// lokal-variants: subgroup
#include "matvec_head.glsl"

// A unit is one element.
uint units_in_row(uint cols) { return cols; }

float unit_dot(uint row_off, uint u, uint xo) {
    return uintBitsToFloat(w[(row_off >> 2) + u]) * x[xo + u];
}

#include "matvec_main.glsl"
