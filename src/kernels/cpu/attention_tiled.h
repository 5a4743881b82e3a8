// Attention for many query rows at once, for prompt processing: up to kTiledRows rows (query
// positions x the heads that share one KV head) go through the cache together, kTiledKeys keys
// at a time, as two small matrix products per key tile (scores = Q K^T, then O += P V) with F32
// scores, online softmax and F32 accumulators. This is what llama.cpp's CPU flash attention does
// for batches of 64 or more queries (its tiled path), and several times faster than attending
// row by row with an F16 accumulator (attend_group), which stays the path for generation and
// short batches.
#pragma once

#include <cstddef>
#include <span>

#include "kernels/cpu/attention.h"

namespace lokal::kernels {

constexpr int kTiledRows = 64;         // rows per attend_tiled call
constexpr int kTiledKeys = 64;         // keys per tile
constexpr int kTiledMaxHeadDim = 256;  // larger heads take the row-by-row path
// A sequence with at least this many tokens in one forward pass uses attend_tiled for them.
constexpr int kTiledMinQueries = 64;

struct QueryRow {
    const float* q;  // head_dim floats
    float* out;      // head_dim floats
    int first;       // visible positions first..last (inclusive)
    int last;
};

// Floats of scratch one attend_tiled call needs (per thread).
size_t tiled_scratch_floats(int head_dim);

// out = softmax(q K^T * scale) V for each row, over its own visible positions of the KV head at
// p.kv_offset (p.first and p.last are not used; each row carries its own). head_dim at most
// kTiledMaxHeadDim, rows.size() at most kTiledRows. The AVX2 and AVX-512 versions are bit-identical
// to the scalar reference: all accumulate every score and every output element in key/element order
// with fused multiply-adds and share one exp.
void attend_tiled(std::span<const QueryRow> rows, const KvSeqView& cache, int layer,
                  const AttentionParams& p, float* scratch);

namespace detail {
void attend_tiled_scalar(std::span<const QueryRow> rows, const KvSeqView& cache, int layer,
                         const AttentionParams& p, float* scratch);
void attend_tiled_avx2(std::span<const QueryRow> rows, const KvSeqView& cache, int layer,
                       const AttentionParams& p, float* scratch);
void attend_tiled_avx512(std::span<const QueryRow> rows, const KvSeqView& cache, int layer,
                         const AttentionParams& p, float* scratch);
}  // namespace detail

}  // namespace lokal::kernels
