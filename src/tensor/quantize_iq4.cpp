// IQ4_NL and IQ4_XS quantizers. Both map each sub-block of 32 values onto the 16 non-linear
// levels of kIq4nlValues with one scale; IQ4_XS adds a super-block of 8 sub-blocks whose
// scales are themselves stored as 6-bit multiples of one fp16 super-scale. The search (the
// initial scale from the signed maximum, then 15 scale candidates around it, each refit by
// weighted least squares) follows ggml's quantize_iq4_nl / quantize_iq4_xs, the functions
// llama-quantize calls, so that our files are the same bytes.
#include <array>
#include <cmath>
#include <cstring>

#include "base/fp16.h"
#include "tensor/quant_blocks.h"
#include "tensor/quant_search.h"
#include "tensor/quantize.h"
#include "tensor/row_codecs.h"

namespace lokal {
namespace {

constexpr int kSubBlock = 32;
constexpr int kScaleTries = 7;  // candidates at max/(values[0] + t), t in [-7, 7]
constexpr float kGroupMaxEps = 1e-15f;

int nearest_int(float v) {
    const float shifted = v + 12582912.f;  // 1.5 * 2^23: rounds to nearest, ties to even
    int32_t bits;
    std::memcpy(&bits, &shifted, sizeof bits);
    return (bits & 0x007fffff) - 0x00400000;
}

// For each integer t in [kIq4nlValues[0], kIq4nlValues[15]], the last level index <= t among
// 0..14: the levels are integers, so for x between the end levels it is the last index whose
// level is <= x, found from floor(x) without a search.
constexpr int kLevelSpan = 113 + 127 + 1;
constexpr std::array<uint8_t, kLevelSpan> kLastLevelAtMost = [] {
    std::array<uint8_t, kLevelSpan> a{};
    for (int i = 0; i < kLevelSpan; ++i) {  // t = i - 127
        int lo = 0;
        for (int k = 1; k < 15; ++k) lo += kIq4nlValues[k] <= i - 127 ? 1 : 0;
        a[(size_t)i] = (uint8_t)lo;
    }
    return a;
}();
static_assert(kIq4nlValues[0] == -127 && kIq4nlValues[15] == 113);

// Index of the level nearest to x (the lower one on a tie): the answer of ggml's bisection over
// the sorted levels, with the same float differences deciding between the two neighbours.
int nearest_level(float x) {
    const int8_t* v = kIq4nlValues;
    if (!(x > v[0])) return x != x ? 15 : 0;  // NaN: where the bisection would end
    if (x >= v[15]) return 15;
    int t = (int)x;
    t -= (float)t > x ? 1 : 0;  // floor
    const int index = t + 127;
    const int lo = kLastLevelAtMost[(size_t)index];
    return x - (float)v[lo] < (float)v[lo + 1] - x ? lo : lo + 1;
}

// 16 floats; lanes of the scale search below.
using VF = float __attribute__((vector_size(16 * sizeof(float))));
constexpr int kCandidates = 2 * kScaleTries + 1;

// nearest_level for each lane, as the level's value: with integer levels, the levels <= x are
// those <= floor(x), so the neighbours below and above x come from comparisons alone, and the
// same float differences decide between them.
// (By reference: a 64-byte vector passed by value draws GCC's -Wpsabi note.)
inline void nearest_level_values(const VF& x, VF& level) {
    const int8_t* v = kIq4nlValues;
    VF below = VF{} + (float)v[0], above = VF{} + (float)v[15];
    for (int k = 1; k < 15; ++k) below = (VF{} + (float)v[k]) <= x ? VF{} + (float)v[k] : below;
    for (int k = 14; k >= 1; --k) above = (VF{} + (float)v[k]) > x ? VF{} + (float)v[k] : above;
    VF q = (x - below) < (above - x) ? below : above;
    q = x >= (float)v[15] ? VF{} + (float)v[15] : q;
    const VF edge = x != x ? VF{} + (float)v[15] : VF{} + (float)v[0];  // NaN: the last level
    level = x > (float)v[0] ? q : edge;
}

// Best scale for one sub-block of 32 (0 for an all-zero block); its level indices go to L.
float fit_sub_block(const float* x, const float* weight, uint8_t* L) {
    float amax = 0, max = 0;
    for (int j = 0; j < kSubBlock; ++j) {
        const float ax = std::fabs(x[j]);
        if (ax > amax) {
            amax = ax;
            max = x[j];
        }
    }
    if (amax < kGroupMaxEps) return 0.f;
    const float v0 = kIq4nlValues[0];
    float id = 1 / (-max / v0);
    float sumqx = 0, sumq2 = 0;
    for (int j = 0; j < kSubBlock; ++j) {
        const int l = nearest_level(id * x[j]);
        L[j] = (uint8_t)l;
        const float q = kIq4nlValues[l];
        sumqx += weight[j] * q * x[j];
        sumq2 += weight[j] * q * q;
    }
    float d = sumq2 > 0 ? sumqx / sumq2 : 0.f;
    float best = d * sumqx;
    // The candidates side by side, lane c for t = c - kScaleTries (lane 15 unused): per lane the
    // same IEEE operations in the same order as one candidate's loop, so the same sums.
    VF id_t = VF{};
    for (int c = 0; c < kCandidates; ++c) id_t[c] = ((float)(c - kScaleTries) + v0) / max;
    VF sqx = VF{}, sq2 = VF{};
    for (int j = 0; j < kSubBlock; ++j) {
        VF q;
        nearest_level_values(id_t * x[j], q);
        const VF wq = weight[j] * q;
        sqx += wq * x[j];
        sq2 += wq * q;
    }
    for (int c = 0; c < kCandidates; ++c) {
        sumqx = sqx[c];
        sumq2 = sq2[c];
        if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
            d = sumqx / sumq2;
            best = d * sumqx;
        }
    }
    return d;
}

// Per-value weights of a sub-block: the importance (scaled by the value's size against the
// super-block's spread) when given, else x^2.
void sub_block_weights(const float* x, const float* importance, float sigma2, float* weight) {
    for (int j = 0; j < kSubBlock; ++j) {
        weight[j] = importance ? importance[j] * std::sqrt(sigma2 + x[j] * x[j]) : x[j] * x[j];
    }
}

float spread(const float* x, int n) {
    float s = 0;
    for (int j = 0; j < n; ++j) s += x[j] * x[j];
    return s * 2.f / (float)n;
}

void pack_nibbles(const uint8_t* L, int n, uint8_t* qs) {
    for (int i = 0; i < n / kSubBlock; ++i) {
        for (int j = 0; j < 16; ++j) {
            qs[16 * i + j] = (uint8_t)(L[32 * i + j] | (L[32 * i + 16 + j] << 4));
        }
    }
}

void quant_block_iq4_nl(const float* x, const float* importance, block_iq4_nl* y) {
    float weight[kSubBlock];
    uint8_t L[kSubBlock] = {};
    sub_block_weights(x, importance, spread(x, kSubBlock), weight);
    const float d = fit_sub_block(x, weight, L);
    y->d = fp32_to_fp16(d);
    // Levels again for the final scale; a zero block gets the level nearest 0 (as ggml's does).
    const float id = d != 0.f ? 1 / d : 0.f;
    for (int j = 0; j < kSubBlock; ++j) L[j] = (uint8_t)nearest_level(id * x[j]);
    pack_nibbles(L, kSubBlock, y->qs);
}

void quant_block_iq4_xs(const float* x, const float* importance, block_iq4_xs* y) {
    constexpr int kSubs = kQKK / kSubBlock;
    float weight[kSubBlock];
    uint8_t L[kQKK] = {};
    float scales[kSubs];
    const float sigma2 = spread(x, kQKK);
    float max_scale = 0, amax_scale = 0;
    for (int ib = 0; ib < kSubs; ++ib) {
        const float* xb = x + ib * kSubBlock;
        sub_block_weights(xb, importance ? importance + ib * kSubBlock : nullptr, sigma2, weight);
        scales[ib] = fit_sub_block(xb, weight, L + ib * kSubBlock);
        if (std::fabs(scales[ib]) > amax_scale) {
            amax_scale = std::fabs(scales[ib]);
            max_scale = scales[ib];
        }
    }
    const float d = -max_scale / 32;
    y->d = fp32_to_fp16(d);
    y->scales_h = 0;
    std::memset(y->scales_l, 0, sizeof y->scales_l);
    const float id = d != 0.f ? 1 / d : 0.f;
    for (int ib = 0; ib < kSubs; ++ib) {
        int l = nearest_int(id * scales[ib]);
        l = l < -32 ? -32 : (l > 31 ? 31 : l);
        const float dl = d * (float)l;
        const float idl = dl != 0.f ? 1 / dl : 0.f;
        for (int j = 0; j < kSubBlock; ++j) {
            L[ib * kSubBlock + j] = (uint8_t)nearest_level(idl * x[ib * kSubBlock + j]);
        }
        const unsigned biased = (unsigned)(l + 32);
        y->scales_l[ib / 2] |= (uint8_t)((biased & 0xF) << 4 * (ib % 2));
        y->scales_h |= (uint16_t)((biased >> 4) << 2 * ib);
    }
    pack_nibbles(L, kQKK, y->qs);
}

}  // namespace

LOKAL_QUANT_MULTIVERSION void quantize_row_iq4_nl(const float* src, void* dst, int64_t n,
                                                  const float* importance) {
    auto* y = static_cast<block_iq4_nl*>(dst);
    for (int64_t i = 0; i < n / kQK32; ++i) {
        quant_block_iq4_nl(src + i * kQK32, importance ? importance + i * kQK32 : nullptr, y + i);
    }
}

LOKAL_QUANT_MULTIVERSION void quantize_row_iq4_xs(const float* src, void* dst, int64_t n,
                                                  const float* importance) {
    auto* y = static_cast<block_iq4_xs*>(dst);
    for (int64_t i = 0; i < n / kQKK; ++i) {
        quant_block_iq4_xs(src + i * kQKK, importance ? importance + i * kQKK : nullptr, y + i);
    }
}

}  // namespace lokal

namespace lokal::codecs {

void iq4_nl_from_float(const float* src, void* dst, int64_t n) {
    quantize_row_iq4_nl(src, dst, n, nullptr);
}

void iq4_xs_from_float(const float* src, void* dst, int64_t n) {
    quantize_row_iq4_xs(src, dst, n, nullptr);
}

}  // namespace lokal::codecs
