// Importance-weighted quantizers of the legacy and K types: what llama-quantize writes when it
// is given an importance matrix. Each value's weight is its importance times
// sqrt(sigma2 + x^2) (sigma2: the mean square of the row or super-block), and the sub-block
// scales and mins are themselves fitted with those weights summed per sub-block. The order of
// operations follows ggml's quantize_row_*_impl so that the bytes are the same.
#include "tensor/quantize_weighted.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "base/fp16.h"
#include "tensor/quant_blocks.h"
#include "tensor/quant_search.h"

namespace lokal {
namespace {

using quant_search::kGroupMaxEps;
using quant_search::make_qkx_quants;
using quant_search::make_qkx_quants_lanes;
using quant_search::make_qp_quants;
using quant_search::make_qx_quants;
using quant_search::make_qx_quants_lanes;
using quant_search::nearest_int;

// The asymmetric search of the weighted quantizers: 37 candidate scales from nmax - 0.9.
constexpr float kRmin = -0.9f;
constexpr float kRdelta = 0.05f;
constexpr int kSteps = 36;

float sum_squares(const float* x, int64_t n) {
    float s = 0;
    for (int64_t j = 0; j < n; ++j) s += x[j] * x[j];
    return s;
}

void value_weights(const float* x, const float* importance, float sigma2, int n, float* weight) {
    for (int j = 0; j < n; ++j) weight[j] = importance[j] * std::sqrt(sigma2 + x[j] * x[j]);
}

float sum_of(const float* w, int n) {
    float s = 0;
    for (int j = 0; j < n; ++j) s += w[j];
    return s;
}

// Low nibbles from the first 16 levels, high from the last 16; the fifth bits (when nbits is
// 5) into qh, element j at bit j.
void pack_32(const uint8_t* L, uint8_t* qs, uint8_t* qh) {
    uint32_t high = 0;
    for (int j = 0; j < 16; ++j) {
        qs[j] = (uint8_t)((L[j] & 0x0F) | ((L[j + 16] & 0x0F) << 4));
        high |= ((L[j] & 0x10u) >> 4) << j;
        high |= ((L[j + 16] & 0x10u) >> 4) << (j + 16);
    }
    if (qh) std::memcpy(qh, &high, 4);
}

// Q4_0 / Q5_0: symmetric, one scale per 32 found by the weighted search.
template <typename Block>
void quant_sym_32(const float* x, Block* y, int64_t n, const float* imp, int nmax) {
    const float sigma2 = sum_squares(x, n) / (float)n;
    float weight[kQK32];
    int8_t L[kQK32];
    for (int64_t ib = 0; ib < n / kQK32; ++ib) {
        const float* xb = x + kQK32 * ib;
        value_weights(xb, imp + kQK32 * ib, sigma2, kQK32, weight);
        const float d = make_qx_quants(kQK32, nmax, xb, L, weight);
        y[ib].d = fp32_to_fp16(d);
        uint8_t Lu[kQK32];
        for (int j = 0; j < kQK32; ++j) Lu[j] = (uint8_t)L[j];
        if constexpr (sizeof(Block) == sizeof(block_q5_0)) {
            pack_32(Lu, y[ib].qs, y[ib].qh);
        } else {
            pack_32(Lu, y[ib].qs, nullptr);
        }
    }
}

// Q4_1 / Q5_1: asymmetric, scale and min per 32.
template <typename Block>
void quant_asym_32(const float* x, Block* y, int64_t n, const float* imp, int nmax) {
    const float sigma2 = sum_squares(x, n) / (float)n;
    float weight[kQK32];
    uint8_t L[kQK32], Laux[kQK32];
    for (int64_t ib = 0; ib < n / kQK32; ++ib) {
        const float* xb = x + kQK32 * ib;
        value_weights(xb, imp + kQK32 * ib, sigma2, kQK32, weight);
        float min;
        const float d =
            make_qkx_quants(kQK32, nmax, xb, weight, L, &min, Laux, kRmin, kRdelta, kSteps, false);
        y[ib].d = fp32_to_fp16(d);
        y[ib].m = fp32_to_fp16(-min);
        if constexpr (sizeof(Block) == sizeof(block_q5_1)) {
            pack_32(L, y[ib].qs, y[ib].qh);
        } else {
            pack_32(L, y[ib].qs, nullptr);
        }
    }
}

// Packs 256 2-bit values: byte l of each 32-byte group holds 4 values 32 apart.

void quant_q2_K(const float* x, block_q2_K* y, int64_t nb, const float* imp) {
    uint8_t L[kQKK], Ls[16], Lm[16];
    float mins[16], scales[16], sw[16], weight[kQKK];
    for (int64_t i = 0; i < nb; ++i, x += kQKK, imp += kQKK) {
        const float sigma2 = sum_squares(x, kQKK) / kQKK;
        for (int j = 0; j < 16; ++j) {
            value_weights(x + 16 * j, imp + 16 * j, sigma2, 16, weight + 16 * j);
            sw[j] = sum_of(weight + 16 * j, 16);
        }
        make_qkx_quants_lanes<16, 16>(3, x, weight, L, mins, scales, kRmin, kRdelta, kSteps, false);
        y[i].d = fp32_to_fp16(make_qp_quants(16, 15, scales, Ls, sw));
        y[i].dmin = fp32_to_fp16(make_qp_quants(16, 15, mins, Lm, sw));
        const float dm = fp16_to_fp32(y[i].d);
        const float mm = fp16_to_fp32(y[i].dmin);
        for (int j = 0; j < 16; ++j) y[i].scales[j] = (uint8_t)(Ls[j] | (Lm[j] << 4));
        for (int j = 0; j < 16; ++j) {
            const float d = dm * (float)(y[i].scales[j] & 0xF);
            if (!d) continue;
            const float m = mm * (float)(y[i].scales[j] >> 4);
            for (int ii = 0; ii < 16; ++ii) {
                const int l = nearest_int((x[16 * j + ii] + m) / d);
                L[16 * j + ii] = (uint8_t)std::max(0, std::min(3, l));
            }
        }
        pack_2bit(L, y[i].qs);
    }
}

void quant_q3_K(const float* x, block_q3_K* y, int64_t nb, const float* imp) {
    int8_t L[kQKK], Ls[16];
    float scales[16], sw[16], weight[kQKK];
    for (int64_t i = 0; i < nb; ++i, x += kQKK, imp += kQKK) {
        const float sigma2 = 2 * sum_squares(x, kQKK) / kQKK;
        for (int j = 0; j < 16; ++j) {
            value_weights(x + 16 * j, imp + 16 * j, sigma2, 16, weight + 16 * j);
            sw[j] = sum_of(weight + 16 * j, 16);
        }
        make_qx_quants_lanes<16, 16>(4, x, weight, L, scales);
        std::memset(y[i].scales, 0, 12);
        const float d_block = make_qx_quants(16, 32, scales, Ls, sw);
        for (int j = 0; j < 16; ++j) {
            // NOLINTNEXTLINE(bugprone-signed-char-misuse): a biased 6-bit scale, 0..63
            int l = Ls[j];
            if (j < 8) {
                y[i].scales[j] = (uint8_t)(l & 0xF);
            } else {
                y[i].scales[j - 8] |= (uint8_t)((l & 0xF) << 4);
            }
            l >>= 4;
            y[i].scales[j % 4 + 8] |= (uint8_t)(l << (2 * (j / 4)));
        }
        y[i].d = fp32_to_fp16(d_block);
        q3_K_levels(x, L, y[i]);
    }
}

// Q4_K (nmax 15) and Q5_K (nmax 31): scale and min per 32, both fitted to 6 bits with the
// summed weights; the levels are then recomputed from the stored scales into L.
void quant_k_asym(const float* x, const float* imp, int nmax, bool clamp_levels, uint8_t* scales12,
                  uint16_t* d_out, uint16_t* dmin_out, uint8_t* L) {
    uint8_t Ls[8], Lm[8];
    float weight[kQKK], mins[8], scales[8], sw[8];
    const float sigma2 = 2 * sum_squares(x, kQKK) / kQKK;
    for (int j = 0; j < 8; ++j) {
        value_weights(x + 32 * j, imp + 32 * j, sigma2, 32, weight + 32 * j);
        sw[j] = sum_of(weight + 32 * j, 32);
    }
    make_qkx_quants_lanes<8, 32>(nmax, x, weight, L, mins, scales, kRmin, kRdelta, kSteps, false);
    const float d_block = make_qp_quants(8, 63, scales, Ls, sw);
    const float m_block = make_qp_quants(8, 63, mins, Lm, sw);
    std::memset(scales12, 0, 12);
    for (int j = 0; j < 8; ++j) {
        // ggml clamps the 6-bit levels for q5_K only; the same wrap-around for q4_K keeps bytes.
        const uint8_t ls = clamp_levels ? std::min<uint8_t>(63, Ls[j]) : Ls[j];
        const uint8_t lm = clamp_levels ? std::min<uint8_t>(63, Lm[j]) : Lm[j];
        if (j < 4) {
            scales12[j] = ls;
            scales12[j + 4] = lm;
        } else {
            scales12[j + 4] = (uint8_t)((ls & 0xF) | ((lm & 0xF) << 4));
            scales12[j - 4] |= (uint8_t)((ls >> 4) << 6);
            scales12[j] |= (uint8_t)((lm >> 4) << 6);
        }
    }
    *d_out = fp32_to_fp16(d_block);
    *dmin_out = fp32_to_fp16(m_block);
    for (int j = 0; j < 8; ++j) {
        uint8_t sc, m;
        get_scale_min_k4(j, scales12, &sc, &m);
        const float d = fp16_to_fp32(*d_out) * sc;
        if (!d) continue;
        const float dm = fp16_to_fp32(*dmin_out) * m;
        for (int ii = 0; ii < 32; ++ii) {
            const int l = nearest_int((x[32 * j + ii] + dm) / d);
            L[32 * j + ii] = (uint8_t)std::max(0, std::min(nmax, l));
        }
    }
}

void quant_q4_K(const float* x, block_q4_K* y, int64_t nb, const float* imp) {
    uint8_t L[kQKK];
    for (int64_t i = 0; i < nb; ++i, x += kQKK, imp += kQKK) {
        quant_k_asym(x, imp, 15, false, y[i].scales, &y[i].d, &y[i].dmin, L);
        uint8_t* q = y[i].qs;
        for (int j = 0; j < kQKK; j += 64, q += 32) {
            for (int l = 0; l < 32; ++l) q[l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 4));
        }
    }
}

void quant_q5_K(const float* x, block_q5_K* y, int64_t nb, const float* imp) {
    uint8_t L[kQKK];
    for (int64_t i = 0; i < nb; ++i, x += kQKK, imp += kQKK) {
        quant_k_asym(x, imp, 31, true, y[i].scales, &y[i].d, &y[i].dmin, L);
        uint8_t* qh = y[i].qh;
        uint8_t* ql = y[i].qs;
        std::memset(qh, 0, 32);
        uint8_t m1 = 1, m2 = 2;
        for (int n = 0; n < kQKK; n += 64, ql += 32, m1 <<= 2, m2 <<= 2) {
            for (int j = 0; j < 32; ++j) {
                int l1 = L[n + j];
                if (l1 > 15) {
                    l1 -= 16;
                    qh[j] |= m1;
                }
                int l2 = L[n + j + 32];
                if (l2 > 15) {
                    l2 -= 16;
                    qh[j] |= m2;
                }
                ql[j] = (uint8_t)(l1 | (l2 << 4));
            }
        }
    }
}

// Q6_K weighs each value by its importance alone (no sigma2 term), as ggml does; without
// importance (imp null) by its square, which is ggml's reference quantizer.
LOKAL_QUANT_MULTIVERSION void quant_q6_K(const float* x, block_q6_K* y, int64_t nb,
                                         const float* imp) {
    int8_t L[kQKK];
    float scales[16];
    for (int64_t i = 0; i < nb; ++i, x += kQKK, imp = imp ? imp + kQKK : nullptr) {
        float max_scale = 0, max_abs_scale = 0;
        make_qx_quants_lanes<16, 16>(32, x, imp, L, scales);
        for (int ib = 0; ib < 16; ++ib) {
            const float scale = scales[ib];
            if (std::fabs(scale) > max_abs_scale) {
                max_abs_scale = std::fabs(scale);
                max_scale = scale;
            }
        }
        if (max_abs_scale < kGroupMaxEps) {
            std::memset(&y[i], 0, sizeof(block_q6_K));
            continue;
        }
        const float iscale = -128.f / max_scale;
        y[i].d = fp32_to_fp16(1 / iscale);
        for (int ib = 0; ib < 16; ++ib) {
            y[i].scales[ib] = (int8_t)std::min(127, nearest_int(iscale * scales[ib]));
        }
        for (int j = 0; j < 16; ++j) {
            const float d = fp16_to_fp32(y[i].d) * y[i].scales[j];
            if (!d) continue;
            for (int ii = 0; ii < 16; ++ii) {
                const int l = nearest_int(x[16 * j + ii] / d);
                L[16 * j + ii] = (int8_t)(std::max(-32, std::min(31, l)) + 32);
            }
        }
        uint8_t* ql = y[i].ql;
        uint8_t* qh = y[i].qh;
        for (int j = 0; j < kQKK; j += 128, ql += 64, qh += 32) {
            for (int l = 0; l < 32; ++l) {
                const uint8_t q1 = L[j + l] & 0xF;
                const uint8_t q2 = L[j + l + 32] & 0xF;
                const uint8_t q3 = L[j + l + 64] & 0xF;
                const uint8_t q4 = L[j + l + 96] & 0xF;
                ql[l] = (uint8_t)(q1 | (q3 << 4));
                ql[l + 32] = (uint8_t)(q2 | (q4 << 4));
                qh[l] = (uint8_t)((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) |
                                  ((L[j + l + 64] >> 4) << 4) | ((L[j + l + 96] >> 4) << 6));
            }
        }
    }
}

}  // namespace

void pack_2bit(const uint8_t* L, uint8_t* qs) {
    for (int j = 0; j < kQKK; j += 128) {
        for (int l = 0; l < 32; ++l) {
            qs[j / 4 + l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) |
                                      (L[j + l + 96] << 6));
        }
    }
}

LOKAL_QUANT_MULTIVERSION void q3_K_levels(const float* x, int8_t* L, block_q3_K& b) {
    int8_t sc[16];
    unpack_q3_K_scales(b.scales, sc);
    for (int j = 0; j < 16; ++j) {
        const float d = fp16_to_fp32(b.d) * sc[j];
        if (!d) continue;
        for (int ii = 0; ii < 16; ++ii) {
            const int l = nearest_int(x[16 * j + ii] / d);
            L[16 * j + ii] = (int8_t)(std::max(-4, std::min(3, l)) + 4);
        }
    }
    // High bit of element 32 * m + k goes to hmask[k], bit m. Written without branches (the
    // high bit is a coin toss, so a branch on it mispredicts) and 32 bytes at a time.
    uint8_t Lu[kQKK], hmask[32] = {};
    for (int m = 0; m < kQKK / 32; ++m) {
        for (int k = 0; k < 32; ++k) {
            const uint8_t l = (uint8_t)L[32 * m + k];
            const uint8_t high = (uint8_t)(l >> 2);  // levels are 0..7
            hmask[k] = (uint8_t)(hmask[k] | (high << m));
            Lu[32 * m + k] = (uint8_t)(l & 3);
        }
    }
    std::memcpy(b.hmask, hmask, 32);
    pack_2bit(Lu, b.qs);
}

void quantize_row_q4_0_weighted(const float* src, void* dst, int64_t n, const float* imp) {
    quant_sym_32(src, static_cast<block_q4_0*>(dst), n, imp, 8);
}
void quantize_row_q5_0_weighted(const float* src, void* dst, int64_t n, const float* imp) {
    quant_sym_32(src, static_cast<block_q5_0*>(dst), n, imp, 16);
}
void quantize_row_q4_1_weighted(const float* src, void* dst, int64_t n, const float* imp) {
    quant_asym_32(src, static_cast<block_q4_1*>(dst), n, imp, 15);
}
void quantize_row_q5_1_weighted(const float* src, void* dst, int64_t n, const float* imp) {
    quant_asym_32(src, static_cast<block_q5_1*>(dst), n, imp, 31);
}
void quantize_row_q2_K_weighted(const float* src, void* dst, int64_t n, const float* imp) {
    quant_q2_K(src, static_cast<block_q2_K*>(dst), n / kQKK, imp);
}
void quantize_row_q3_K_weighted(const float* src, void* dst, int64_t n, const float* imp) {
    quant_q3_K(src, static_cast<block_q3_K*>(dst), n / kQKK, imp);
}
void quantize_row_q4_K_weighted(const float* src, void* dst, int64_t n, const float* imp) {
    quant_q4_K(src, static_cast<block_q4_K*>(dst), n / kQKK, imp);
}
void quantize_row_q5_K_weighted(const float* src, void* dst, int64_t n, const float* imp) {
    quant_q5_K(src, static_cast<block_q5_K*>(dst), n / kQKK, imp);
}
void quantize_row_q6_K_weighted(const float* src, void* dst, int64_t n, const float* imp) {
    quant_q6_K(src, static_cast<block_q6_K*>(dst), n / kQKK, imp);
}

}  // namespace lokal
