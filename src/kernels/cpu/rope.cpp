#include "kernels/cpu/rope.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace lokal::kernels {

namespace {

// YaRN blends interpolated and extrapolated angles per dimension (see the YaRN paper).
float yarn_corr_dim(int n_dims, int n_ctx_orig, float n_rot, float base) {
    return n_dims * std::log(n_ctx_orig / (n_rot * 2.0f * (float)M_PI)) / (2.0f * std::log(base));
}

float yarn_ramp(float low, float high, int i0) {
    // NOLINTNEXTLINE(bugprone-integer-division)
    const float y = ((float)(i0 / 2) - low) / std::max(0.001f, high - low);
    return 1.0f - std::min(1.0f, std::max(0.0f, y));
}

}  // namespace

void RopeTable::compute(const RopeConfig& r, int pos) {
    const int half = r.n_rot / 2;
    const float theta_scale = std::pow(r.freq_base, -2.0f / r.n_rot);
    float low = 0, high = 0, ext_factor = 0.0f, mscale = r.yarn_attn_factor;
    if (r.scaling == RopeScaling::YaRN) {
        ext_factor = r.yarn_ext_factor;
        low = std::max(
            0.0f, std::floor(yarn_corr_dim(r.n_rot, r.n_ctx_orig, r.yarn_beta_fast, r.freq_base)));
        high = std::min(
            (float)(r.n_rot - 1),
            std::ceil(yarn_corr_dim(r.n_rot, r.n_ctx_orig, r.yarn_beta_slow, r.freq_base)));
        if (ext_factor != 0.0f) mscale *= 1.0f + 0.1f * std::log(1.0f / r.freq_scale);
    }
    float theta_base = (float)pos;
    for (int i = 0; i < half; ++i) {
        const float ff = r.freq_factors.empty() ? 1.0f : r.freq_factors[i];
        const float extrap = theta_base / ff;
        const float interp = r.freq_scale * extrap;
        float theta = interp;
        if (ext_factor != 0.0f) {
            const float mix = yarn_ramp(low, high, 2 * i) * ext_factor;
            theta = interp * (1 - mix) + extrap * mix;
        }
        cos[i] = std::cos(theta) * mscale;
        sin[i] = std::sin(theta) * mscale;
        theta_base *= theta_scale;
    }
}

void rope_apply(float* x, int n_heads, int head_dim, const RopeConfig& r, const RopeTable& t) {
    const int half = r.n_rot / 2;
    for (int h = 0; h < n_heads; ++h) {
        float* v = x + (int64_t)h * head_dim;
        for (int i = 0; i < half; ++i) {
            float* a = r.style == RopeStyle::Normal ? &v[2 * i] : &v[i];
            float* b = r.style == RopeStyle::Normal ? &v[2 * i + 1] : &v[i + half];
            const float x0 = *a, x1 = *b;
            *a = x0 * t.cos[i] - x1 * t.sin[i];
            *b = x0 * t.sin[i] + x1 * t.cos[i];
        }
    }
}

}  // namespace lokal::kernels
