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

}  // namespace lokal::model::detail
