// Reference quantization of one row of floats, the same algorithms as ggml's
// quantize_row_*_ref (no importance matrix). Q8_0 / Q8_1 / Q8_K are bit-exact with ggml: they are
// what activations are quantized to before the integer dot products.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tensor/dtype.h"

namespace lokal {

// True when quantize_row supports t.
bool can_quantize(DType t);

// Quantizes n floats from src into dst as type t; n must be a multiple of t's block size and dst
// must hold row_bytes(t, n) bytes. Returns the bytes written. Throws lokal::Error for a type we
// cannot quantize or a bad n.
size_t quantize_row(DType t, const float* src, void* dst, int64_t n);

}  // namespace lokal
