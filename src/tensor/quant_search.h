// Internal to tensor/: the scale searches the quantizers share (quantize.cpp, the reference
// ones, and quantize_weighted.cpp, the importance-weighted ones). Each follows the search of
// the ggml function named beside it operation by operation, so that files stay byte-identical
// with llama-quantize's; -ffp-contract=off keeps the compiler from fusing the products.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace lokal::quant_search {

inline constexpr float kGroupMaxEps = 1e-15f;

// Round to nearest, ties to even, for |v| <= 2^22 (ggml's nearest_int: the magic-number trick).
inline int nearest_int(float v) {
    const float shifted = v + 12582912.f;  // 1.5 * 2^23
    int32_t bits;
    std::memcpy(&bits, &shifted, sizeof bits);
    return (bits & 0x007fffff) - 0x00400000;
}

// l limited to [lo, hi], written with conditionals that compile to selects (no branches).
inline int clamp_level(int l, int lo, int hi) {
    l = l < lo ? lo : l;
    return l > hi ? hi : l;
}

// Symmetric quantization of n <= 64 values to [-nmax, nmax-1] (stored +nmax in L), refining
// the scale over 18 candidates by weighted least squares (ggml's make_qx_quants, rmse_type 1).
// weights nullptr means x^2. Returns the scale.
inline float make_qx_quants(int n, int nmax, const float* x, int8_t* L, const float* weights) {
    float max = 0, amax = 0;
    for (int i = 0; i < n; ++i) {
        const float ax = std::fabs(x[i]);
        if (ax > amax) {
            amax = ax;
            max = x[i];
        }
    }
    if (amax < kGroupMaxEps) {
        for (int i = 0; i < n; ++i) L[i] = 0;
        return 0.f;
    }
    float squares[64];
    if (!weights) {
        for (int i = 0; i < n; ++i) squares[i] = x[i] * x[i];
        weights = squares;
    }
    // The levels and products of a candidate are element-wise (vectorised); only the sums run
    // one element after another, in ggml's order, so that they round the same way.
    int levels[64];
    float wxl[64], wll[64];
    const auto fit = [&](float iscale, float& sumlx, float& suml2) {
        for (int i = 0; i < n; ++i)
            levels[i] = clamp_level(nearest_int(iscale * x[i]), -nmax, nmax - 1);
        for (int i = 0; i < n; ++i) {
            const float l = (float)levels[i];
            wxl[i] = weights[i] * x[i] * l;
            wll[i] = weights[i] * l * l;
        }
        sumlx = suml2 = 0;
        for (int i = 0; i < n; ++i) {
            sumlx += wxl[i];
            suml2 += wll[i];
        }
    };
    float iscale = -nmax / max;
    float sumlx, suml2;
    fit(iscale, sumlx, suml2);
    for (int i = 0; i < n; ++i) L[i] = (int8_t)(levels[i] + nmax);
    float scale = suml2 ? sumlx / suml2 : 0.0f;
    float best = scale * sumlx;
    for (int is = -9; is <= 9; ++is) {
        if (is == 0) continue;
        iscale = -(nmax + 0.1f * is) / max;
        fit(iscale, sumlx, suml2);
        if (suml2 > 0 && sumlx * sumlx > best * suml2) {
            for (int i = 0; i < n; ++i) L[i] = (int8_t)(levels[i] + nmax);
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
    }
    return scale;
}

// Asymmetric quantization of n <= 32 values, x ~ scale * L - the_min, L in [0, nmax], searching
// nstep+1 candidate scales and fitting scale and min by weighted least squares (ggml's
// make_qkx2_quants and, with its weights given, make_qkx3_quants). Returns the scale.
inline float make_qkx_quants(int n, int nmax, const float* x, const float* weights, uint8_t* L,
                             float* the_min, uint8_t* Laux, float rmin, float rdelta, int nstep,
                             bool use_mad) {
    float min = x[0], max = x[0];
    float sum_w = weights[0];
    float sum_x = sum_w * x[0];
    for (int i = 1; i < n; ++i) {
        if (x[i] < min) min = x[i];
        if (x[i] > max) max = x[i];
        const float w = weights[i];
        sum_w += w;
        sum_x += w * x[i];
    }
    if (min > 0) min = 0;
    if (max == min) {
        for (int i = 0; i < n; ++i) L[i] = 0;
        *the_min = -min;
        return 0.f;
    }
    // As in make_qx_quants: element-wise work in arrays, the sums in ggml's order.
    float wl[32], wll[32], wlx[32], werr[32];
    const auto weighted_error = [&](const uint8_t* levels, float s, float m) {
        for (int i = 0; i < n; ++i) {
            float diff = s * levels[i] + m - x[i];
            diff = use_mad ? std::fabs(diff) : diff * diff;
            werr[i] = weights[i] * diff;
        }
        float e = 0;
        for (int i = 0; i < n; ++i) e += werr[i];
        return e;
    };
    float iscale = nmax / (max - min);
    float scale = 1 / iscale;
    for (int i = 0; i < n; ++i)
        L[i] = (uint8_t)clamp_level(nearest_int(iscale * (x[i] - min)), 0, nmax);
    float best_error = weighted_error(L, scale, min);
    if (nstep < 1) {
        *the_min = -min;
        return scale;
    }
    for (int is = 0; is <= nstep; ++is) {
        iscale = (rmin + rdelta * is + nmax) / (max - min);
        for (int i = 0; i < n; ++i) {
            Laux[i] = (uint8_t)clamp_level(nearest_int(iscale * (x[i] - min)), 0, nmax);
        }
        for (int i = 0; i < n; ++i) {
            const float l = (float)Laux[i];
            wl[i] = weights[i] * l;
            wll[i] = wl[i] * l;
            wlx[i] = wl[i] * x[i];
        }
        float sum_l = 0, sum_l2 = 0, sum_xl = 0;
        for (int i = 0; i < n; ++i) {
            sum_l += wl[i];
            sum_l2 += wll[i];
            sum_xl += wlx[i];
        }
        const float D = sum_w * sum_l2 - sum_l * sum_l;
        if (D > 0) {
            float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
            float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
            if (this_min > 0) {
                this_min = 0;
                this_scale = sum_xl / sum_l2;
            }
            const float cur_error = weighted_error(Laux, this_scale, this_min);
            if (cur_error < best_error) {
                for (int i = 0; i < n; ++i) L[i] = Laux[i];
                best_error = cur_error;
                scale = this_scale;
                min = this_min;
            }
        }
    }
    *the_min = -min;
    return scale;
}

// Quantizes n non-negative values (sub-block scales or mins) to [0, nmax] with one scale: the
// best of 9 candidates by weighted squared error, then per-value refinement (ggml's
// make_qp_quants). L is uint8_t and takes C's wrap-around for the rare negative level, as ggml's
// does, so that odd inputs still give the same bytes. Returns the scale.
inline float make_qp_quants(int n, int nmax, const float* x, uint8_t* L, const float* weights) {
    float max = 0;
    for (int i = 0; i < n; ++i) max = std::max(max, x[i]);
    if (max < kGroupMaxEps) {
        for (int i = 0; i < n; ++i) L[i] = 0;
        return 0.f;
    }
    float iscale = nmax / max;
    for (int i = 0; i < n; ++i) L[i] = (uint8_t)nearest_int(iscale * x[i]);
    const float scale = 1 / iscale;
    float best_mse = 0;
    for (int i = 0; i < n; ++i) {
        const float diff = x[i] - scale * L[i];
        best_mse += weights[i] * diff * diff;
    }
    for (int is = -4; is <= 4; ++is) {
        if (is == 0) continue;
        const float iscale_is = (0.1f * is + nmax) / max;
        const float scale_is = 1 / iscale_is;
        float mse = 0;
        for (int i = 0; i < n; ++i) {
            const int l = std::min(nmax, nearest_int(iscale_is * x[i]));
            const float diff = x[i] - scale_is * l;
            mse += weights[i] * diff * diff;
        }
        if (mse < best_mse) {
            best_mse = mse;
            iscale = iscale_is;
        }
    }
    float sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; ++i) {
        const int l = std::min(nmax, nearest_int(iscale * x[i]));
        L[i] = (uint8_t)l;
        const float w = weights[i];
        sumlx += w * x[i] * l;
        suml2 += w * l * l;
    }
    for (int itry = 0; itry < 5; ++itry) {
        int n_changed = 0;
        for (int i = 0; i < n; ++i) {
            const float w = weights[i];
            float slx = sumlx - w * x[i] * L[i];
            float sl2 = suml2 - w * L[i] * L[i];
            if (slx > 0 && sl2 > 0) {
                const int new_l = std::min(nmax, nearest_int(x[i] * sl2 / slx));
                if (new_l != L[i]) {
                    slx += w * x[i] * new_l;
                    sl2 += w * new_l * new_l;
                    if (slx * slx * suml2 > sumlx * sumlx * sl2) {
                        L[i] = (uint8_t)new_l;
                        sumlx = slx;
                        suml2 = sl2;
                        ++n_changed;
                    }
                }
            }
        }
        if (!n_changed) break;
    }
    return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}

}  // namespace lokal::quant_search
