// Shared between attention.cpp and its per-instruction-set versions; not a public interface.
#pragma once

#include "model/attention.h"

namespace lokal::model::detail {

constexpr int kMaxHeadDim = 1024;

void attend_f16_scalar(const float* q, const KvCache& cache, int layer, const AttentionParams& p,
                       float* out);
void attend_f16_avx2(const float* q, const KvCache& cache, int layer, const AttentionParams& p,
                     float* out);

}  // namespace lokal::model::detail
