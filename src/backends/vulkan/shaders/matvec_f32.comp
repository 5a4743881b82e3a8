#version 450
// lokal-variants: tiled
#include "matvec_head.glsl"

float w_elem(uint row_off, uint i) { return uintBitsToFloat(w[(row_off >> 2) + i]); }

#include "matvec_plain.glsl"
#include "matvec_main.glsl"
