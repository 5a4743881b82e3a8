#version 450
// lokal-variants: tiled
#include "matvec_head.glsl"

// bf16 is the high half of an f32.
float w_elem(uint row_off, uint i) { return uintBitsToFloat(w_u16(row_off + 2u * i) << 16); }

#include "matvec_plain.glsl"
#include "matvec_main.glsl"
