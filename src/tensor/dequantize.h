// Dequantization of one row of a (possibly quantized) tensor to float. Bit-exact with ggml's
// dequantize_row_* reference functions, so logits computed from our weights match llama.cpp's.
#pragma once

#include <cstdint>

#include "tensor/dtype.h"

namespace lokal {

// True when dequantize_row supports t.
bool can_dequantize(DType t);

// Writes n floats to dst from the row src stored as t; n must be a multiple of t's block size.
// Throws lokal::Error for a type we cannot dequantize or a bad n.
void dequantize_row(DType t, const void* src, float* dst, int64_t n);

}  // namespace lokal
