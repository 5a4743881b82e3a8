// Shared between attention.cpp and its per-instruction-set versions; not a public interface.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "base/fp16.h"
#include "kernels/cpu/attention.h"
#include "kernels/cpu/attention_tiled.h"
#include "kernels/cpu/exp_poly.h"
#include "tensor/quant_blocks.h"

namespace lokal::kernels::detail {

constexpr int kMaxHeadDim = 1024;

// The factor on q.k before soft-capping's tanh (which then multiplies by softcap again).
LOKAL_INLINE_EVERYWHERE float score_scale(const AttentionParams& p) {
    return p.softcap > 0 ? p.scale / p.softcap : p.scale;
}

// One row's tile of scores (nk keys from j0) soft-capped, then -inf outside the row's window
// (only tiles that cross its ends have any): the SIMD tiled kernels' step between the scores
// and the softmax.
LOKAL_INLINE_EVERYWHERE void cap_and_mask_scores(float* s, int nk, int j0, const QueryRow& row,
                                                 float softcap) {
    if (softcap > 0) {
        for (int k = 0; k < nk; ++k) s[k] = softcap * std::tanh(s[k]);
    }
    for (int k = 0; k < std::min(nk, row.first - j0); ++k) s[k] = -INFINITY;
    for (int k = std::max(0, row.last - j0 + 1); k < nk; ++k) s[k] = -INFINITY;
}

// softmax_exp of 8 values at once (AVX2), identical bits (attention_f16_avx2.cpp).
void softmax_exp8_avx2(const float* x, float* out);

// attend_tiled's key tile (nk <= kTiledKeys keys from j0 of the KV head at kv_offset) as F32:
// keys transposed into kt[d][k] (keys nk..round_up(nk, 8) zero), values row by row into v[k][d].
// AVX2; head_dim a multiple of 8 (attention_tiled_avx2.cpp).
void load_tiled_kv_avx2(const KvSeqView& cache, int layer, int kv_offset, int hd, int j0, int nk,
                        float* kt, float* v);

// The row-by-row kernels' online softmax over n (at most 8) keys' scores s of one head, key by
// key as the scalar versions: a key above the running maximum m becomes it, and its factor ms
// rescales what was accumulated (vs = 1); any other key gets weight vs (ms = 1). The sum follows.
// A full tile's exponentials are computed at once (softmax_exp8_avx2: the same bits).
LOKAL_INLINE_EVERYWHERE void online_softmax_keys(const float* s, int n, float softcap, float* m,
                                                 float* sum, float* ms, float* vs) {
    alignas(32) float arg[8];
    bool new_max[8];
    for (int k = 0; k < n; ++k) {
        float x = s[k];
        if (softcap > 0) x = softcap * std::tanh(x);
        new_max[k] = x > *m;
        arg[k] = new_max[k] ? *m - x : x - *m;
        if (new_max[k]) *m = x;
    }
    alignas(32) float e[8];
    if (n == 8) {
        softmax_exp8_avx2(arg, e);
    } else {
        for (int k = 0; k < n; ++k) e[k] = softmax_exp(arg[k]);
    }
    for (int k = 0; k < n; ++k) {
        ms[k] = new_max[k] ? e[k] : 1.0f;
        vs[k] = new_max[k] ? 1.0f : e[k];
        *sum = *sum * ms[k] + vs[k];
    }
}

// fn(std::integral_constant<int, G>{}) for G = n_heads in 1..kMaxGroupHeads; false otherwise.
template <typename Fn>
LOKAL_INLINE_EVERYWHERE bool with_group_size(int n_heads, Fn&& fn) {
    switch (n_heads) {
        case 1:
            fn(std::integral_constant<int, 1>{});
            return true;
        case 2:
            fn(std::integral_constant<int, 2>{});
            return true;
        case 3:
            fn(std::integral_constant<int, 3>{});
            return true;
        case 4:
            fn(std::integral_constant<int, 4>{});
            return true;
        case 5:
            fn(std::integral_constant<int, 5>{});
            return true;
        case 6:
            fn(std::integral_constant<int, 6>{});
            return true;
        case 7:
            fn(std::integral_constant<int, 7>{});
            return true;
        case 8:
            fn(std::integral_constant<int, 8>{});
            return true;
        default:
            return false;
    }
}

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
// The group kernel of the AVX2 table (attention_kernels.h): the above where it applies, else
// head by head.
void attend_f16_heads_avx2(const float* const* q, int n_heads, const KvSeqView& cache, int layer,
                           const AttentionParams& p, float* const* out);

// ---- Q8_0 cache ------------------------------------------------------------------------------
// As llama.cpp's CPU flash attention does for a quantized cache: the query is quantized to Q8_0
// too, each score is an integer dot product per block, scaled and summed over the head's blocks
// in order (one fused multiply-add per block), the softmax and the value accumulator are F32 and
// the value rows are dequantized (q * d) as they are read.

// The Q8_0 blocks of one KV head within a cache row.
LOKAL_INLINE_EVERYWHERE const block_q8_0* q8_head(const void* row, int kv_offset) {
    return static_cast<const block_q8_0*>(row) + kv_offset / 32;
}

// sum over blocks b in order: fma(isum_b, d_k * d_q, s).
LOKAL_INLINE_EVERYWHERE float dot_q8_0_blocks(const block_q8_0* q, const block_q8_0* k, int nb) {
    float s = 0.0f;
    for (int b = 0; b < nb; ++b) {
        int32_t isum = 0;
        for (int i = 0; i < 32; ++i) isum += (int32_t)q[b].qs[i] * k[b].qs[i];
        s = std::fma((float)isum, fp16_to_fp32(k[b].d) * fp16_to_fp32(q[b].d), s);
    }
    return s;
}

// The query head as Q8_0 blocks (bit-exact on every instruction set).
void quantize_query_q8_0(const float* q, int head_dim, block_q8_0* out);

void attend_q8_0_scalar(const float* q, const KvSeqView& cache, int layer, const AttentionParams& p,
                        float* out);
// n_heads (1..kMaxGroupHeads) query heads over one KV head, each bit-identical to
// attend_q8_0_scalar. False, with nothing done, for more heads or (for several heads) a head
// size over kMaxGroupHeadDim.
bool attend_q8_0_avx2_group(const float* const* q, int n_heads, const KvSeqView& cache, int layer,
                            const AttentionParams& p, float* const* out);
void attend_q8_0_heads_avx2(const float* const* q, int n_heads, const KvSeqView& cache, int layer,
                            const AttentionParams& p, float* const* out);

// ---- F32 cache: the plain online softmax (std::exp), scalar only --------------------------------
void attend_f32_scalar(const float* q, const KvSeqView& cache, int layer, const AttentionParams& p,
                       float* out);

}  // namespace lokal::kernels::detail

namespace lokal::kernels::detail {

// attend_tiled's per-thread scratch, carved out of one float buffer (tiled_scratch_floats).
struct TiledScratch {
    float* kt;  // [head_dim][kTiledKeys]: the key tile, transposed
    float* v;   // [kTiledKeys][head_dim]: the value tile
    float* s;   // [kTiledRows][kTiledKeys]: scores, then softmax weights
    float* o;   // [kTiledRows][head_dim]: output accumulators
    float* m;   // [kTiledRows]: running maximum score
    float* l;   // [kTiledRows]: running sum of weights
};

// Carves the scratch for head_dim, empties every row's state (no maximum yet, zero sum and
// accumulators), and sets lo..hi to the positions the rows see together.
LOKAL_INLINE_EVERYWHERE TiledScratch tiled_start(float* base, std::span<const QueryRow> rows,
                                                 int head_dim, int* lo, int* hi) {
    TiledScratch t{};
    t.kt = base;
    t.v = t.kt + (size_t)head_dim * kTiledKeys;
    t.s = t.v + (size_t)kTiledKeys * head_dim;
    t.o = t.s + (size_t)kTiledRows * kTiledKeys;
    t.m = t.o + (size_t)kTiledRows * head_dim;
    t.l = t.m + kTiledRows;
    *lo = rows[0].first;
    *hi = rows[0].last;
    for (size_t r = 0; r < rows.size(); ++r) {
        *lo = std::min(*lo, rows[r].first);
        *hi = std::max(*hi, rows[r].last);
        t.m[r] = -INFINITY;
        t.l[r] = 0.0f;
        std::fill_n(t.o + r * head_dim, head_dim, 0.0f);
    }
    return t;
}

// One row's online-softmax step over a tile's nk scores s (masked ones -inf) whose maximum is
// tmax, except for the sum of the weights: afterwards s holds the weights, and a new maximum has
// rescaled the row's accumulators o and sum l. weights8(s, m, out) sets out[i] =
// softmax_exp(s[i] - m) for 8 values at once (SIMD, inlined), or is nullptr for one at a time
// (the results are the same).
template <typename Weights8>
LOKAL_INLINE_EVERYWHERE void tiled_softmax_weights(float* s, int nk, float tmax, float* m, float* l,
                                                   float* o, int head_dim,
                                                   const Weights8& weights8) {
    if (tmax == -INFINITY) {  // nothing visible in this tile: weights 0, state unchanged
        for (int k = 0; k < nk; ++k) s[k] = 0.0f;
        return;
    }
    if (tmax > *m) {
        const float c = softmax_exp(*m - tmax);
        for (int d = 0; d < head_dim; ++d) o[d] *= c;
        *l *= c;
        *m = tmax;
    }
    int k = 0;
    if constexpr (!std::is_same_v<Weights8, std::nullptr_t>) {
        for (; k + 8 <= nk; k += 8) weights8(s + k, *m, s + k);
    }
    for (; k < nk; ++k) s[k] = softmax_exp(s[k] - *m);
}

// The whole online-softmax step of one row: tiled_softmax_weights, then l += the weights' sum,
// added in key order from 0 (a tile with nothing visible adds +0, which leaves l as it is).
LOKAL_INLINE_EVERYWHERE void tiled_softmax_row(float* s, int nk, float* m, float* l, float* o,
                                               int head_dim) {
    float tmax = -INFINITY;
    for (int k = 0; k < nk; ++k) tmax = s[k] > tmax ? s[k] : tmax;
    tiled_softmax_weights(s, nk, tmax, m, l, o, head_dim, nullptr);
    float sum = 0.0f;
    for (int k = 0; k < nk; ++k) sum += s[k];
    *l += sum;
}

}  // namespace lokal::kernels::detail
