// Shared between attention.cpp and its per-instruction-set versions; not a public interface.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#include "model/attention.h"

namespace lokal::model::detail {

constexpr int kMaxHeadDim = 1024;

// exp(x) for the F16-cache softmax, written so that a SIMD version can repeat it lane by lane
// bit for bit (std::exp cannot be vectorized exactly): x = n ln2 + r with |r| <= ln2 / 2, a
// degree-7 Taylor polynomial of e^r (within about 2 ulp of exp), times 2^n. Arguments below -87
// (the weights of keys far below the running maximum) give 0. Valid for x <= 88.
namespace exp_consts {
constexpr float kLog2e = 1.44269504088896341f;
constexpr float kLn2Hi = 0.693145751953125f;       // ln 2 = kLn2Hi + kLn2Lo, kLn2Hi exact with
constexpr float kLn2Lo = 1.42860682030941723e-6f;  // few bits, so n * kLn2Hi is exact
constexpr float kMin = -87.0f;
constexpr float kC[8] = {1.0f,      1.0f,       1.0f / 2,   1.0f / 6,
                         1.0f / 24, 1.0f / 120, 1.0f / 720, 1.0f / 5040};
}  // namespace exp_consts

inline float softmax_exp(float x) {
    using namespace exp_consts;  // NOLINT(google-build-using-namespace)
    if (!(x >= kMin)) return 0.0f;
    const float n = std::nearbyint(x * kLog2e);
    const float r = std::fma(n, -kLn2Lo, std::fma(n, -kLn2Hi, x));
    float p = kC[7];
    for (int k = 6; k >= 0; --k) p = std::fma(p, r, kC[k]);
    const uint32_t bits = (uint32_t)((int32_t)n + 127) << 23;
    float scale;
    std::memcpy(&scale, &bits, 4);
    return p * scale;
}

// softmax_exp of 8 values at once (AVX2), identical bits (attention_f16_avx2.cpp).
void softmax_exp8_avx2(const float* x, float* out);

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
