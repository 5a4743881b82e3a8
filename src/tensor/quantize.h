// Reference quantization of one row of floats, the same algorithms as ggml's
// quantize_row_*_ref (no importance matrix), and IQ4_NL / IQ4_XS as llama-quantize writes them.
// Q8_0 / Q8_1 / Q8_K are bit-exact with ggml: they are what activations are quantized to before the
// integer dot products.
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

// As quantize_row, with an importance for each of the n values (an importance matrix row: the
// mean squared activation each column meets), which the search weighs errors by. nullptr
// importance, or a type without an importance-aware quantizer, is exactly quantize_row.
size_t quantize_row_weighted(DType t, const float* src, void* dst, int64_t n,
                             const float* importance);
// True when quantize_row_weighted uses the importance for t.
bool uses_importance(DType t);

// The non-linear 4-bit quantizers (quantize_iq4.cpp); importance may be nullptr.
void quantize_row_iq4_nl(const float* src, void* dst, int64_t n, const float* importance);
void quantize_row_iq4_xs(const float* src, void* dst, int64_t n, const float* importance);

}  // namespace lokal
