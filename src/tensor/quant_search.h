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

// The hottest quantizers (Q3_K, Q6_K) are compiled three times on x86-64: for the baseline,
// for x86-64-v3 (AVX2) and for x86-64-v4 (AVX-512), picked once at load time. Their lanes loops
// then work on 8 or 16 floats at a time instead of 4 (v4: Q3_K_S 8.8 -> 6.0 s on a 1B model,
// bench/compare_quantize.py). The bytes are the same: every operation is still one IEEE
// operation in the same order (-ffp-contract=off keeps FMA out), only the vector width changes.
// flatten inlines the searches into each copy so that they are compiled for its target too.
// GCC only: clang refuses target_clones together with flatten (and lokal is built with GCC).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define LOKAL_QUANT_MULTIVERSION \
    __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"), flatten))
#else
#define LOKAL_QUANT_MULTIVERSION
#endif

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

// make_qx_quants on kLanes sub-blocks of kN values side by side (as make_qkx_quants_lanes):
// x, weights (nullptr: x^2) and L hold the sub-blocks one after another; one scale each.
// A candidate's levels are a function of its iscale alone, so only the best iscale of each lane
// is kept and its levels are made once at the end.
template <int kLanes, int kN>
void make_qx_quants_lanes(int nmax, const float* x, const float* weights, int8_t* L,
                          float* scale_out) {
    // wxt: w * x, the same in every candidate (the sums take (w * x) * l, as ggml writes it).
    float xt[kN][kLanes], wt[kN][kLanes], wxt[kN][kLanes];
    for (int lane = 0; lane < kLanes; ++lane) {
        for (int i = 0; i < kN; ++i) {
            const float v = x[lane * kN + i];
            xt[i][lane] = v;
            wt[i][lane] = weights ? weights[lane * kN + i] : v * v;
            wxt[i][lane] = wt[i][lane] * v;
        }
    }
    float max[kLanes] = {}, amax[kLanes] = {};
    for (int i = 0; i < kN; ++i) {
        for (int lane = 0; lane < kLanes; ++lane) {
            const float ax = std::fabs(xt[i][lane]);
            const bool bigger = ax > amax[lane];
            amax[lane] = bigger ? ax : amax[lane];
            max[lane] = bigger ? xt[i][lane] : max[lane];
        }
    }
    // The level of v is nearest_int(v) limited to [-nmax, nmax-1], made here without leaving
    // floats: adding and removing 1.5 * 2^23 rounds to the nearest integer, ties to even, as
    // nearest_int does. Equal for |v| < 2^22, which holds in every lane that is kept
    // (|iscale * x| <= nmax + 0.9 there, as max is the value of largest magnitude).
    const float lo = (float)-nmax, hi = (float)(nmax - 1);
    float sumlx[kLanes], suml2[kLanes], iscale[kLanes];
    const auto fit = [&] {
        for (int lane = 0; lane < kLanes; ++lane) sumlx[lane] = suml2[lane] = 0;
        for (int i = 0; i < kN; ++i) {
            for (int lane = 0; lane < kLanes; ++lane) {
                float l = (iscale[lane] * xt[i][lane] + 12582912.f) - 12582912.f;
                l = l < lo ? lo : l;
                l = l > hi ? hi : l;
                sumlx[lane] += wxt[i][lane] * l;
                suml2[lane] += wt[i][lane] * l * l;
            }
        }
    };
    float scale[kLanes], best[kLanes], best_iscale[kLanes];
    for (int lane = 0; lane < kLanes; ++lane) iscale[lane] = -nmax / max[lane];
    fit();
    for (int lane = 0; lane < kLanes; ++lane) {
        best_iscale[lane] = iscale[lane];
        scale[lane] = suml2[lane] ? sumlx[lane] / suml2[lane] : 0.0f;
        best[lane] = scale[lane] * sumlx[lane];
    }
    for (int is = -9; is <= 9; ++is) {
        if (is == 0) continue;
        for (int lane = 0; lane < kLanes; ++lane) iscale[lane] = -(nmax + 0.1f * is) / max[lane];
        fit();
        for (int lane = 0; lane < kLanes; ++lane) {
            const bool take =
                suml2[lane] > 0 && sumlx[lane] * sumlx[lane] > best[lane] * suml2[lane];
            scale[lane] = take ? sumlx[lane] / suml2[lane] : scale[lane];
            best[lane] = take ? scale[lane] * sumlx[lane] : best[lane];
            best_iscale[lane] = take ? iscale[lane] : best_iscale[lane];
        }
    }
    for (int lane = 0; lane < kLanes; ++lane) {
        const bool zero = amax[lane] < kGroupMaxEps;  // such lanes computed garbage
        for (int i = 0; i < kN; ++i) {
            const int l =
                clamp_level(nearest_int(best_iscale[lane] * xt[i][lane]), -nmax, nmax - 1);
            L[lane * kN + i] = zero ? 0 : (int8_t)(l + nmax);
        }
        scale_out[lane] = zero ? 0.f : scale[lane];
    }
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

// make_qkx_quants on kLanes sub-blocks of kN values at once (x, weights and L hold them one
// after another; the_min and scale get one value each). Every sub-block does exactly the
// arithmetic make_qkx_quants does, in the same order; doing them side by side lets the
// compiler put the sub-blocks in the lanes of one vector register, and hides the latency of
// the ordered sums.
template <int kLanes, int kN>
void make_qkx_quants_lanes(int nmax, const float* x, const float* weights, uint8_t* L,
                           float* the_min, float* scale_out, float rmin, float rdelta, int nstep,
                           bool use_mad) {
    float xt[kN][kLanes], wt[kN][kLanes];
    uint8_t best_l[kN][kLanes], cand_l[kN][kLanes];
    for (int lane = 0; lane < kLanes; ++lane) {
        for (int i = 0; i < kN; ++i) {
            xt[i][lane] = x[lane * kN + i];
            wt[i][lane] = weights[lane * kN + i];
        }
    }
    float min[kLanes], max[kLanes], sum_w[kLanes], sum_x[kLanes];
    for (int lane = 0; lane < kLanes; ++lane) {
        min[lane] = max[lane] = xt[0][lane];
        sum_w[lane] = wt[0][lane];
        sum_x[lane] = sum_w[lane] * xt[0][lane];
    }
    for (int i = 1; i < kN; ++i) {
        for (int lane = 0; lane < kLanes; ++lane) {
            min[lane] = xt[i][lane] < min[lane] ? xt[i][lane] : min[lane];
            max[lane] = xt[i][lane] > max[lane] ? xt[i][lane] : max[lane];
            sum_w[lane] += wt[i][lane];
            sum_x[lane] += wt[i][lane] * xt[i][lane];
        }
    }
    float scale[kLanes], best[kLanes], first_min[kLanes], iscale[kLanes];
    bool flat[kLanes];
    for (int lane = 0; lane < kLanes; ++lane) {
        min[lane] = min[lane] > 0 ? 0.f : min[lane];
        first_min[lane] = min[lane];
        flat[lane] = max[lane] == min[lane];  // such lanes compute garbage, then get zeros
        iscale[lane] = nmax / (max[lane] - min[lane]);
        scale[lane] = 1 / iscale[lane];
        best[lane] = 0;
    }
    const auto levels = [&](uint8_t(&out)[kN][kLanes]) {
        for (int i = 0; i < kN; ++i) {
            for (int lane = 0; lane < kLanes; ++lane) {
                out[i][lane] = (uint8_t)clamp_level(
                    nearest_int(iscale[lane] * (xt[i][lane] - min[lane])), 0, nmax);
            }
        }
    };
    const auto add_errors = [&](const uint8_t(&l)[kN][kLanes], const float* s, const float* m,
                                float* err) {
        for (int i = 0; i < kN; ++i) {
            for (int lane = 0; lane < kLanes; ++lane) {
                float diff = s[lane] * l[i][lane] + m[lane] - xt[i][lane];
                diff = use_mad ? std::fabs(diff) : diff * diff;
                err[lane] += wt[i][lane] * diff;
            }
        }
    };
    levels(best_l);
    add_errors(best_l, scale, min, best);
    for (int is = 0; nstep >= 1 && is <= nstep; ++is) {
        float sum_l[kLanes] = {}, sum_l2[kLanes] = {}, sum_xl[kLanes] = {};
        for (int lane = 0; lane < kLanes; ++lane) {
            iscale[lane] = (rmin + rdelta * is + nmax) / (max[lane] - min[lane]);
        }
        levels(cand_l);
        for (int i = 0; i < kN; ++i) {
            for (int lane = 0; lane < kLanes; ++lane) {
                const float l = cand_l[i][lane];
                const float wl = wt[i][lane] * l;
                sum_l[lane] += wl;
                sum_l2[lane] += wl * l;
                sum_xl[lane] += wl * xt[i][lane];
            }
        }
        float D[kLanes], this_scale[kLanes], this_min[kLanes], err[kLanes] = {};
        for (int lane = 0; lane < kLanes; ++lane) {
            D[lane] = sum_w[lane] * sum_l2[lane] - sum_l[lane] * sum_l[lane];
            this_scale[lane] = (sum_w[lane] * sum_xl[lane] - sum_x[lane] * sum_l[lane]) / D[lane];
            this_min[lane] = (sum_l2[lane] * sum_x[lane] - sum_l[lane] * sum_xl[lane]) / D[lane];
            const bool clip = this_min[lane] > 0;
            this_scale[lane] = clip ? sum_xl[lane] / sum_l2[lane] : this_scale[lane];
            this_min[lane] = clip ? 0.f : this_min[lane];
        }
        add_errors(cand_l, this_scale, this_min, err);
        bool take[kLanes];
        for (int lane = 0; lane < kLanes; ++lane) {
            take[lane] = D[lane] > 0 && err[lane] < best[lane];
            best[lane] = take[lane] ? err[lane] : best[lane];
            scale[lane] = take[lane] ? this_scale[lane] : scale[lane];
            min[lane] = take[lane] ? this_min[lane] : min[lane];
        }
        for (int i = 0; i < kN; ++i) {
            for (int lane = 0; lane < kLanes; ++lane) {
                best_l[i][lane] = take[lane] ? cand_l[i][lane] : best_l[i][lane];
            }
        }
    }
    for (int lane = 0; lane < kLanes; ++lane) {
        for (int i = 0; i < kN; ++i) L[lane * kN + i] = flat[lane] ? 0 : best_l[i][lane];
        the_min[lane] = flat[lane] ? -first_min[lane] : -min[lane];
        scale_out[lane] = flat[lane] ? 0.f : scale[lane];
    }
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
