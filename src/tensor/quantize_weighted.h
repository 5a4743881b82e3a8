// Internal to tensor/: the importance-weighted quantizers of the legacy and K types
// (quantize_weighted.cpp), reached through quantize_row_weighted. importance holds one value per
// element of the row and must not be nullptr.
#pragma once

#include <cstdint>

namespace lokal {

void quantize_row_q4_0_weighted(const float* src, void* dst, int64_t n, const float* importance);
void quantize_row_q4_1_weighted(const float* src, void* dst, int64_t n, const float* importance);
void quantize_row_q5_0_weighted(const float* src, void* dst, int64_t n, const float* importance);
void quantize_row_q5_1_weighted(const float* src, void* dst, int64_t n, const float* importance);
void quantize_row_q2_K_weighted(const float* src, void* dst, int64_t n, const float* importance);
void quantize_row_q3_K_weighted(const float* src, void* dst, int64_t n, const float* importance);
void quantize_row_q4_K_weighted(const float* src, void* dst, int64_t n, const float* importance);
void quantize_row_q5_K_weighted(const float* src, void* dst, int64_t n, const float* importance);
void quantize_row_q6_K_weighted(const float* src, void* dst, int64_t n, const float* importance);

struct block_q3_K;
// Shared by the reference and weighted K-quantizers: 2-bit levels (four per byte, ggml's
// order), and a Q3_K block's levels from its packed scales and d (L holds the search's levels,
// kept where a sub-block's scale is 0), stored in hmask and qs.
void pack_2bit(const uint8_t* L, uint8_t* qs);
void q3_K_levels(const float* x, int8_t* L, block_q3_K& b);

}  // namespace lokal
