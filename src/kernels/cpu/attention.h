// Attention of one query head over a range of cached positions, with an online (streaming)
// softmax so each key and value row is read once.
#pragma once

#include <cstddef>

#include "kernels/cpu/kv_cache.h"

namespace lokal::kernels {

struct AttentionParams {
    int head_dim = 0;
    int kv_offset = 0;  // element offset of this KV head within a cache row
    int first = 0;      // first visible position (sliding window)
    int last = 0;       // last visible position (inclusive)
    float scale = 1.0f;
    float softcap = 0.0f;  // 0: none
};

// out[head_dim] = softmax(q·K^T * scale) · V over positions first..last of `layer`.
// With an F16 cache, q is rounded to F16 like the keys (as llama.cpp's CPU path does).
void attend(const float* q, const KvSeqView& cache, int layer, const AttentionParams& p,
            float* out);

constexpr int kMaxGroupHeads = 8;  // n_heads per attend_group call

// attend() for n_heads query heads sharing one KV head (q[g] -> out[g]); with an F16 cache and
// AVX2 they go through the cache together, bit-identical to attending one by one.
void attend_group(const float* const* q, int n_heads, const KvSeqView& cache, int layer,
                  const AttentionParams& p, float* const* out);

// Bidirectional attention of one query head over n rows (encoders, no cache): k and v point at
// the head's first row, the rows row_stride floats apart; out[head_dim] = softmax(q.K^T * scale)
// . V with a two-pass softmax (scores: n floats of scratch).
void attend_all_rows(const float* q, const float* k, const float* v, size_t row_stride, int n,
                     int head_dim, float scale, float* scores, float* out);

}  // namespace lokal::kernels
