#include "tensor/quantize.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <string>

#include "base/error.h"
#include "base/fp16.h"
#include "tensor/quant_blocks.h"
#include "tensor/quant_search.h"
#include "tensor/quantize_weighted.h"
#include "tensor/row_codecs.h"

// The arithmetic follows ggml's reference quantizers step by step (same rounding helpers, same
// search grids, same float expressions) so that our files look like llama.cpp's and activation
// quantization is bit-identical.

namespace lokal {
namespace {

using quant_search::kGroupMaxEps;
using quant_search::make_qkx_quants;
using quant_search::make_qx_quants;
using quant_search::nearest_int;

// ---------------------------------------------------------------------------------------------
// Legacy 32-element blocks.

void quant_q4_0(const float* x, block_q4_0* y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i, x += kQK32) {
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < kQK32; ++j) {
            if (amax < std::fabs(x[j])) {
                amax = std::fabs(x[j]);
                max = x[j];
            }
        }
        const float d = max / -8;
        const float id = d ? 1.0f / d : 0.0f;
        y[i].d = fp32_to_fp16(d);
        for (int j = 0; j < 16; ++j) {
            const uint8_t lo = (uint8_t)std::min(15, (int)(int8_t)(x[j] * id + 8.5f));
            const uint8_t hi = (uint8_t)std::min(15, (int)(int8_t)(x[j + 16] * id + 8.5f));
            y[i].qs[j] = (uint8_t)(lo | (hi << 4));
        }
    }
}

void quant_q4_1(const float* x, block_q4_1* y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i, x += kQK32) {
        float min = FLT_MAX, max = -FLT_MAX;
        for (int j = 0; j < kQK32; ++j) {
            if (x[j] < min) min = x[j];
            if (x[j] > max) max = x[j];
        }
        const float d = (max - min) / 15;
        const float id = d ? 1.0f / d : 0.0f;
        y[i].d = fp32_to_fp16(d);
        y[i].m = fp32_to_fp16(min);
        for (int j = 0; j < 16; ++j) {
            // NOLINTNEXTLINE(bugprone-incorrect-roundings): ggml rounds this way; files must match
            const uint8_t lo = (uint8_t)std::min(15, (int)(int8_t)((x[j] - min) * id + 0.5f));
            // NOLINTNEXTLINE(bugprone-incorrect-roundings): ggml rounds this way; files must match
            const uint8_t hi = (uint8_t)std::min(15, (int)(int8_t)((x[j + 16] - min) * id + 0.5f));
            y[i].qs[j] = (uint8_t)(lo | (hi << 4));
        }
    }
}

void quant_q5_0(const float* x, block_q5_0* y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i, x += kQK32) {
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < kQK32; ++j) {
            if (amax < std::fabs(x[j])) {
                amax = std::fabs(x[j]);
                max = x[j];
            }
        }
        const float d = max / -16;
        const float id = d ? 1.0f / d : 0.0f;
        y[i].d = fp32_to_fp16(d);
        uint32_t qh = 0;
        for (int j = 0; j < 16; ++j) {
            const uint8_t lo = (uint8_t)std::min(31, (int)(int8_t)(x[j] * id + 16.5f));
            const uint8_t hi = (uint8_t)std::min(31, (int)(int8_t)(x[j + 16] * id + 16.5f));
            y[i].qs[j] = (uint8_t)((lo & 0x0F) | ((hi & 0x0F) << 4));
            qh |= ((lo & 0x10u) >> 4) << j;
            qh |= ((hi & 0x10u) >> 4) << (j + 16);
        }
        std::memcpy(y[i].qh, &qh, 4);
    }
}

void quant_q5_1(const float* x, block_q5_1* y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i, x += kQK32) {
        float min = FLT_MAX, max = -FLT_MAX;
        for (int j = 0; j < kQK32; ++j) {
            if (x[j] < min) min = x[j];
            if (x[j] > max) max = x[j];
        }
        const float d = (max - min) / 31;
        const float id = d ? 1.0f / d : 0.0f;
        y[i].d = fp32_to_fp16(d);
        y[i].m = fp32_to_fp16(min);
        uint32_t qh = 0;
        for (int j = 0; j < 16; ++j) {
            // NOLINTNEXTLINE(bugprone-incorrect-roundings): ggml rounds this way; files must match
            const uint8_t lo = (uint8_t)((x[j] - min) * id + 0.5f);
            // NOLINTNEXTLINE(bugprone-incorrect-roundings): ggml rounds this way; files must match
            const uint8_t hi = (uint8_t)((x[j + 16] - min) * id + 0.5f);
            y[i].qs[j] = (uint8_t)((lo & 0x0F) | ((hi & 0x0F) << 4));
            qh |= ((lo & 0x10u) >> 4) << j;
            qh |= ((hi & 0x10u) >> 4) << (j + 16);
        }
        std::memcpy(y[i].qh, &qh, 4);
    }
}

void quant_q8_0(const float* x, block_q8_0* y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i, x += kQK32) {
        float amax = 0.0f;
        for (int j = 0; j < kQK32; ++j) amax = std::max(amax, std::fabs(x[j]));
        const float d = amax / 127;
        const float id = d ? 1.0f / d : 0.0f;
        y[i].d = fp32_to_fp16(d);
        for (int j = 0; j < kQK32; ++j) y[i].qs[j] = (int8_t)std::round(x[j] * id);
    }
}

void quant_q8_1(const float* x, block_q8_1* y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i, x += kQK32) {
        float amax = 0.0f;
        for (int j = 0; j < kQK32; ++j) amax = std::max(amax, std::fabs(x[j]));
        const float d = amax / 127;
        const float id = d ? 1.0f / d : 0.0f;
        y[i].d = fp32_to_fp16(d);
        int sum = 0;
        for (int j = 0; j < kQK32; ++j) {
            y[i].qs[j] = (int8_t)std::round(x[j] * id);
            sum += y[i].qs[j];
        }
        y[i].s = fp32_to_fp16(sum * d);
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers of the K quantizers.

// Symmetric 3-bit quantization with iterative per-element refinement (q3_K, ggml's
// make_q3_quants) of the 16 sub-blocks of 16 values of a super-block side by side: each
// sub-block does exactly the arithmetic of its own search, in the same order, and the lanes
// let the compiler work on several at once. Scales to scales[16], levels (+nmax) to L.
void make_q3_quants_x16(int nmax, const float* x, int8_t* L, float* scales) {
    constexpr int kLanes = 16, kN = 16;
    // wxt: w * x, computed once (ggml's sums take (w * x) * l).
    float xt[kN][kLanes], wt[kN][kLanes], wxt[kN][kLanes];
    int lv[kN][kLanes];
    for (int lane = 0; lane < kLanes; ++lane) {
        for (int i = 0; i < kN; ++i) {
            xt[i][lane] = x[lane * kN + i];
            wt[i][lane] = xt[i][lane] * xt[i][lane];
            wxt[i][lane] = wt[i][lane] * xt[i][lane];
        }
    }
    float max[kLanes] = {}, amax[kLanes] = {}, iscale[kLanes], sumlx[kLanes] = {},
          suml2[kLanes] = {};
    for (int i = 0; i < kN; ++i) {
        for (int lane = 0; lane < kLanes; ++lane) {
            const float ax = std::fabs(xt[i][lane]);
            const bool bigger = ax > amax[lane];
            amax[lane] = bigger ? ax : amax[lane];
            max[lane] = bigger ? xt[i][lane] : max[lane];
        }
    }
    for (int lane = 0; lane < kLanes; ++lane) iscale[lane] = -nmax / max[lane];
    for (int i = 0; i < kN; ++i) {
        for (int lane = 0; lane < kLanes; ++lane) {
            const int l =
                quant_search::clamp_level(nearest_int(iscale[lane] * xt[i][lane]), -nmax, nmax - 1);
            lv[i][lane] = l;
            sumlx[lane] += wxt[i][lane] * (float)l;
            suml2[lane] += wt[i][lane] * (float)l * (float)l;
        }
    }
    // The refinement in 16-lane vectors (GCC vector extensions; the compiler does not vectorise
    // the loop itself): one IEEE operation per lane for each scalar one of the search, same
    // order. Comparisons give -1 (true) or 0 per lane.
    using VF = float __attribute__((vector_size(kLanes * sizeof(float))));
    using VI = int32_t __attribute__((vector_size(kLanes * sizeof(float))));
    VF vsumlx, vsuml2;
    std::memcpy(&vsumlx, sumlx, sizeof vsumlx);
    std::memcpy(&vsuml2, suml2, sizeof vsuml2);
    VI active = VI{} - 1;
    const VI lo = VI{} - nmax, hi = VI{} + (nmax - 1);
    for (int itry = 0; itry < 5; ++itry) {
        VI changed = VI{};
        for (int i = 0; i < kN; ++i) {
            VF w, xi, wx;
            VI li;
            std::memcpy(&w, wt[i], sizeof w);
            std::memcpy(&xi, xt[i], sizeof xi);
            std::memcpy(&wx, wxt[i], sizeof wx);
            std::memcpy(&li, lv[i], sizeof li);
            const VF lf = __builtin_convertvector(li, VF);
            VF slx = vsumlx - wx * lf;
            VF sl2 = vsuml2 - w * lf * lf;
            const VF q = xi * sl2 / slx + 12582912.f;  // nearest_int's magic-number rounding
            VI new_l;
            std::memcpy(&new_l, &q, sizeof new_l);
            new_l = (new_l & 0x007fffff) - 0x00400000;
            new_l = new_l < lo ? lo : new_l;
            new_l = new_l > hi ? hi : new_l;
            const VI moved = active & (slx > 0) & (new_l != li);
            const VF nf = __builtin_convertvector(new_l, VF);
            slx += wx * nf;
            sl2 += w * nf * nf;
            const VI take = moved & (sl2 > 0) & (slx * slx * vsuml2 > vsumlx * vsumlx * sl2);
            li = take ? new_l : li;
            vsumlx = take ? slx : vsumlx;
            vsuml2 = take ? sl2 : vsuml2;
            changed |= take;
            std::memcpy(lv[i], &li, sizeof li);
        }
        active &= changed;
        bool any = false;
        for (int lane = 0; lane < kLanes; ++lane) any = any || active[lane] != 0;
        if (!any) break;
    }
    std::memcpy(sumlx, &vsumlx, sizeof vsumlx);
    std::memcpy(suml2, &vsuml2, sizeof vsuml2);
    for (int lane = 0; lane < kLanes; ++lane) {
        const bool zero = amax[lane] < kGroupMaxEps;  // such lanes computed garbage
        for (int i = 0; i < kN; ++i) L[lane * kN + i] = (int8_t)(zero ? 0 : lv[i][lane] + nmax);
        scales[lane] = zero || !(suml2[lane] > 0.0f) ? 0.f : sumlx[lane] / suml2[lane];
    }
}

// Packs 256 2-bit values: byte l of each 32-byte group holds 4 values 32 apart.

// ---------------------------------------------------------------------------------------------
// K super-blocks.

void quant_q2_K(const float* x, block_q2_K* y, int64_t nb) {
    uint8_t L[kQKK];
    float weights[kQKK], mins[16], scales[16];
    const float q4scale = 15.f;
    for (int64_t i = 0; i < nb; ++i, x += kQKK) {
        float max_scale = 0, max_min = 0;
        for (int l = 0; l < kQKK; ++l) weights[l] = std::fabs(x[l]);
        quant_search::make_qkx_quants_lanes<16, 16>(3, x, weights, L, mins, scales, -0.5f, 0.1f, 15,
                                                    true);
        for (int j = 0; j < 16; ++j) {
            if (scales[j] > max_scale) max_scale = scales[j];
            if (mins[j] > max_min) max_min = mins[j];
        }
        if (max_scale > 0) {
            const float iscale = q4scale / max_scale;
            for (int j = 0; j < 16; ++j) y[i].scales[j] = (uint8_t)nearest_int(iscale * scales[j]);
            y[i].d = fp32_to_fp16(max_scale / q4scale);
        } else {
            for (int j = 0; j < 16; ++j) y[i].scales[j] = 0;
            y[i].d = fp32_to_fp16(0.f);
        }
        if (max_min > 0) {
            const float iscale = q4scale / max_min;
            for (int j = 0; j < 16; ++j) {
                y[i].scales[j] |= (uint8_t)(nearest_int(iscale * mins[j]) << 4);
            }
            y[i].dmin = fp32_to_fp16(max_min / q4scale);
        } else {
            y[i].dmin = fp32_to_fp16(0.f);
        }
        for (int j = 0; j < 16; ++j) {
            const float d = fp16_to_fp32(y[i].d) * (y[i].scales[j] & 0xF);
            if (!d) continue;
            const float dm = fp16_to_fp32(y[i].dmin) * (y[i].scales[j] >> 4);
            for (int ii = 0; ii < 16; ++ii) {
                const int l = nearest_int((x[16 * j + ii] + dm) / d);
                L[16 * j + ii] = (uint8_t)std::max(0, std::min(3, l));
            }
        }
        pack_2bit(L, y[i].qs);
    }
}

LOKAL_QUANT_MULTIVERSION void quant_q3_K(const float* x, block_q3_K* y, int64_t nb) {
    int8_t L[kQKK];
    float scales[16];
    for (int64_t i = 0; i < nb; ++i, x += kQKK) {
        float max_scale = 0, amax = 0;
        make_q3_quants_x16(4, x, L, scales);
        for (int j = 0; j < 16; ++j) {
            const float scale = std::fabs(scales[j]);
            if (scale > amax) {
                amax = scale;
                max_scale = scales[j];
            }
        }
        std::memset(y[i].scales, 0, 12);
        if (max_scale) {
            const float iscale = -32.f / max_scale;
            for (int j = 0; j < 16; ++j) {
                // NOLINTNEXTLINE(bugprone-signed-char-misuse): a signed 6-bit scale, by design
                int l = (int8_t)nearest_int(iscale * scales[j]);
                l = std::max(-32, std::min(31, l)) + 32;
                if (j < 8) {
                    y[i].scales[j] = (uint8_t)(l & 0xF);
                } else {
                    y[i].scales[j - 8] |= (uint8_t)((l & 0xF) << 4);
                }
                l >>= 4;
                y[i].scales[j % 4 + 8] |= (uint8_t)(l << (2 * (j / 4)));
            }
            y[i].d = fp32_to_fp16(1 / iscale);
        } else {
            y[i].d = fp32_to_fp16(0.f);
        }
        q3_K_levels(x, L, y[i]);
    }
}

// Packs the 6-bit scales and mins of 8 sub-blocks into the 12 bytes of a q4_K / q5_K block.
void pack_scale_min_k4(const uint8_t* ls, const uint8_t* lm, uint8_t* q) {
    for (int j = 0; j < 8; ++j) {
        if (j < 4) {
            q[j] = ls[j];
            q[j + 4] = lm[j];
        } else {
            q[j + 4] = (uint8_t)((ls[j] & 0xF) | ((lm[j] & 0xF) << 4));
            q[j - 4] |= (uint8_t)((ls[j] >> 4) << 6);
            q[j] |= (uint8_t)((lm[j] >> 4) << 6);
        }
    }
}

// Shared by q4_K (nmax 15) and q5_K (nmax 31): scales/mins per sub-block of 32, then the
// requantized levels in L.
void quant_k_asym(const float* x, int nmax, float rmin, int nstep, uint8_t* scales12,
                  uint16_t* d_out, uint16_t* dmin_out, uint8_t* L) {
    float weights[kQKK], mins[8], scales[8];
    float max_scale = 0, max_min = 0;
    for (int j = 0; j < 8; ++j) {
        float sum_x2 = 0;
        for (int l = 0; l < 32; ++l) sum_x2 += x[32 * j + l] * x[32 * j + l];
        const float av_x = std::sqrt(sum_x2 / 32);
        for (int l = 0; l < 32; ++l) weights[32 * j + l] = av_x + std::fabs(x[32 * j + l]);
    }
    quant_search::make_qkx_quants_lanes<8, 32>(nmax, x, weights, L, mins, scales, rmin, 0.1f, nstep,
                                               false);
    for (int j = 0; j < 8; ++j) {
        if (scales[j] > max_scale) max_scale = scales[j];
        if (mins[j] > max_min) max_min = mins[j];
    }
    const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
    const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
    uint8_t ls[8], lm[8];
    for (int j = 0; j < 8; ++j) {
        ls[j] = std::min<uint8_t>(63, (uint8_t)nearest_int(inv_scale * scales[j]));
        lm[j] = std::min<uint8_t>(63, (uint8_t)nearest_int(inv_min * mins[j]));
    }
    std::memset(scales12, 0, 12);
    pack_scale_min_k4(ls, lm, scales12);
    *d_out = fp32_to_fp16(max_scale / 63.f);
    *dmin_out = fp32_to_fp16(max_min / 63.f);
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

void quant_q4_K(const float* x, block_q4_K* y, int64_t nb) {
    uint8_t L[kQKK];
    for (int64_t i = 0; i < nb; ++i, x += kQKK) {
        quant_k_asym(x, 15, -1.f, 20, y[i].scales, &y[i].d, &y[i].dmin, L);
        uint8_t* q = y[i].qs;
        for (int j = 0; j < kQKK; j += 64, q += 32) {
            for (int l = 0; l < 32; ++l) q[l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 4));
        }
    }
}

void quant_q5_K(const float* x, block_q5_K* y, int64_t nb) {
    uint8_t L[kQKK];
    for (int64_t i = 0; i < nb; ++i, x += kQKK) {
        quant_k_asym(x, 31, -0.5f, 15, y[i].scales, &y[i].d, &y[i].dmin, L);
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

// Without importance, Q6_K weighs each value by its square: the weighted quantizer with no
// weights (quantize_weighted.cpp) is ggml's reference.
void quant_q6_K(const float* x, block_q6_K* y, int64_t nb) {
    quantize_row_q6_K_weighted(x, y, nb * kQKK, nullptr);
}

void quant_q8_K(const float* x, block_q8_K* y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i, x += kQKK) {
        float max = 0, amax = 0;
        for (int j = 0; j < kQKK; ++j) {
            const float ax = std::fabs(x[j]);
            if (ax > amax) {
                amax = ax;
                max = x[j];
            }
        }
        if (!amax) {
            // ggml leaves bsums untouched here; we zero the whole block to stay deterministic.
            std::memset(&y[i], 0, sizeof(block_q8_K));
            continue;
        }
        const float iscale = -127.f / max;
        for (int j = 0; j < kQKK; ++j) {
            y[i].qs[j] = (int8_t)std::min(127, nearest_int(iscale * x[j]));
        }
        for (int j = 0; j < 16; ++j) {
            int sum = 0;
            for (int ii = 0; ii < 16; ++ii) sum += y[i].qs[j * 16 + ii];
            y[i].bsums[j] = (int16_t)sum;
        }
        y[i].d = 1 / iscale;
    }
}

}  // namespace

}  // namespace lokal

// One row converter per type, for the type table (dtype.cpp): n elements, n / block blocks.
namespace lokal::codecs {

void f32_from_float(const float* src, void* dst, int64_t n) {
    std::memcpy(dst, src, (size_t)n * sizeof(float));
}

void f16_from_float(const float* src, void* dst, int64_t n) {
    uint16_t* h = static_cast<uint16_t*>(dst);
    for (int64_t i = 0; i < n; ++i) h[i] = fp32_to_fp16(src[i]);
}

void bf16_from_float(const float* src, void* dst, int64_t n) {
    uint16_t* h = static_cast<uint16_t*>(dst);
    for (int64_t i = 0; i < n; ++i) h[i] = fp32_to_bf16(src[i]);
}

#define LOKAL_BLOCKS_FROM_FLOAT(name, elems)                             \
    void name##_from_float(const float* src, void* dst, int64_t n) {     \
        quant_##name(src, static_cast<block_##name*>(dst), n / (elems)); \
    }
LOKAL_BLOCKS_FROM_FLOAT(q4_0, kQK32)
LOKAL_BLOCKS_FROM_FLOAT(q4_1, kQK32)
LOKAL_BLOCKS_FROM_FLOAT(q5_0, kQK32)
LOKAL_BLOCKS_FROM_FLOAT(q5_1, kQK32)
LOKAL_BLOCKS_FROM_FLOAT(q8_0, kQK32)
LOKAL_BLOCKS_FROM_FLOAT(q8_1, kQK32)
LOKAL_BLOCKS_FROM_FLOAT(q2_K, kQKK)
LOKAL_BLOCKS_FROM_FLOAT(q3_K, kQKK)
LOKAL_BLOCKS_FROM_FLOAT(q4_K, kQKK)
LOKAL_BLOCKS_FROM_FLOAT(q5_K, kQKK)
LOKAL_BLOCKS_FROM_FLOAT(q6_K, kQKK)
LOKAL_BLOCKS_FROM_FLOAT(q8_K, kQKK)
#undef LOKAL_BLOCKS_FROM_FLOAT

}  // namespace lokal::codecs

namespace lokal {

bool can_quantize(DType t) {
    return dtype_info(t).from_float != nullptr;
}

namespace {

// Throws unless t has a quantizer and n is a whole number of its blocks.
const DTypeInfo& check_row(DType t, int64_t n) {
    const DTypeInfo& info = dtype_info(t);
    if (!info.from_float) {
        throw Error("cannot quantize to tensor type " + std::string(info.name),
                    ErrorKind::Unsupported);
    }
    if (n < 0 || n % info.block_elems != 0) {
        throw Error("quantize_row: " + std::to_string(n) + " elements is not a multiple of " +
                    std::to_string(info.block_elems) + " for type " + std::string(info.name));
    }
    return info;
}

}  // namespace

size_t quantize_row(DType t, const float* src, void* dst, int64_t n) {
    check_row(t, n).from_float(src, dst, n);
    return (size_t)row_bytes(t, (uint64_t)n);
}

namespace {

using WeightedFn = void (*)(const float* src, void* dst, int64_t n, const float* importance);
struct WeightedQuantizer {
    DType type;
    WeightedFn fn;
};
constexpr WeightedQuantizer kWeighted[] = {
    {DType::Q4_0, quantize_row_q4_0_weighted}, {DType::Q4_1, quantize_row_q4_1_weighted},
    {DType::Q5_0, quantize_row_q5_0_weighted}, {DType::Q5_1, quantize_row_q5_1_weighted},
    {DType::Q2_K, quantize_row_q2_K_weighted}, {DType::Q3_K, quantize_row_q3_K_weighted},
    {DType::Q4_K, quantize_row_q4_K_weighted}, {DType::Q5_K, quantize_row_q5_K_weighted},
    {DType::Q6_K, quantize_row_q6_K_weighted}, {DType::IQ4_NL, quantize_row_iq4_nl},
    {DType::IQ4_XS, quantize_row_iq4_xs},
};

WeightedFn weighted_fn(DType t) {
    for (const WeightedQuantizer& w : kWeighted) {
        if (w.type == t) return w.fn;
    }
    return nullptr;
}

}  // namespace

bool uses_importance(DType t) {
    return weighted_fn(t) != nullptr;
}

size_t quantize_row_weighted(DType t, const float* src, void* dst, int64_t n,
                             const float* importance) {
    const WeightedFn fn = weighted_fn(t);
    if (!importance || !fn) return quantize_row(t, src, dst, n);
    check_row(t, n);
    fn(src, dst, n, importance);
    return (size_t)row_bytes(t, (uint64_t)n);
}

}  // namespace lokal
