// Shared between attention.cpp and its per-instruction-set versions; not a public interface.
#pragma once

#include "model/attention.h"

namespace lokal::model::detail {

constexpr int kMaxHeadDim = 1024;

// q·k in the canonical order both versions use: 8 lanes of fused multiply-adds over the
// head, then a fixed pairwise reduction (sequential when n is not a multiple of 8).
float dot_f16_lanes(const float* q, const uint16_t* k, int n);

void attend_f16_scalar(const float* q, const KvSeqView& cache, int layer, const AttentionParams& p,
                       float* out);
void attend_f16_avx2(const float* q, const KvSeqView& cache, int layer, const AttentionParams& p,
                     float* out);

// The n_heads query heads q[g] that share the KV head at p.kv_offset, in one pass (out[g] for
// each). False, with nothing done, when the shape is not supported (more than 8 heads, a head
// size over kMaxGroupHeadDim or not a multiple of 8).
constexpr int kMaxGroupHeadDim = 256;
bool attend_f16_avx2_group(const float* const* q, int n_heads, const KvSeqView& cache, int layer,
                           const AttentionParams& p, float* const* out);

}  // namespace lokal::model::detail
