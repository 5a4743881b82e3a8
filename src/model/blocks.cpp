#include "model/blocks.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "base/fp16.h"
#include "kernels/cpu/vec_dot.h"
#include "model/blocks_internal.h"
#include "model/exp_poly.h"

namespace lokal::model {

void rms_norm(const float* x, const float* w, float* out, int n, float eps) {
    double sum = 0.0;
    for (int i = 0; i < n; ++i) sum += (double)x[i] * x[i];
    const float scale = 1.0f / std::sqrt((float)(sum / n) + eps);
    for (int i = 0; i < n; ++i) out[i] = x[i] * scale * w[i];
}

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

// SiLU through our exp (exp_poly.h) with its argument clamped to [kMin, kMax]: beyond, 1 + e^-g
// is 1 or ~1.7e38 either way, and the result differs from std::exp's by less than 1e-36. The
// comparisons are written as VMAXPS/VMINPS compute them, so swiglu_avx2 gives the same bits.
void detail::swiglu_scalar(const float* gate, const float* up, float* out, int n) {
    for (int i = 0; i < n; ++i) {
        const float g = gate[i];
        float x = 0.0f - g;
        x = x > exp_consts::kMin ? x : exp_consts::kMin;
        x = x < exp_consts::kMax ? x : exp_consts::kMax;
        out[i] = g / (1.0f + softmax_exp(x)) * up[i];
    }
}

void swiglu(const float* gate, const float* up, float* out, int n) {
#if defined(__x86_64__)
    static const bool use_avx2 = kernels::active_isa() != kernels::Isa::Scalar;
    if (use_avx2) {
        detail::swiglu_avx2(gate, up, out, n);
        return;
    }
#endif
    detail::swiglu_scalar(gate, up, out, n);
}

namespace {

float gelu_tanh(float x) {
    constexpr float kSqrt2OverPi = 0.79788456080286535588f;
    return 0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * x * (1.0f + 0.044715f * x * x)));
}

// GELU of every F16 value, rounded to F16: the same table llama.cpp uses, so that gemma's
// activations agree with it bit for bit (and a lookup is cheaper than tanh).
const std::vector<uint16_t>& gelu_f16_table() {
    static const std::vector<uint16_t> table = [] {
        std::vector<uint16_t> t(65536);
        for (uint32_t i = 0; i < 65536; ++i)
            t[i] = fp32_to_fp16(gelu_tanh(fp16_to_fp32((uint16_t)i)));
        return t;
    }();
    return table;
}

}  // namespace

void geglu(const float* gate, const float* up, float* out, int n) {
    const std::vector<uint16_t>& table = gelu_f16_table();
    for (int i = 0; i < n; ++i) {
        const float g = gate[i];
        float gelu;
        if (g <= -10.0f) {
            gelu = 0.0f;
        } else if (g >= 10.0f) {
            gelu = g;
        } else {
            gelu = fp16_to_fp32(table[fp32_to_fp16(g)]);
        }
        out[i] = gelu * up[i];
    }
}

void gelu_inplace(float* x, int n) {
    const std::vector<uint16_t>& table = gelu_f16_table();
    for (int i = 0; i < n; ++i) {
        const float g = x[i];
        if (g <= -10.0f) {
            x[i] = 0.0f;
        } else if (g < 10.0f) {
            x[i] = fp16_to_fp32(table[fp32_to_fp16(g)]);
        }
    }
}

void layer_norm(const float* x, const float* w, const float* b, float* out, int n, float eps) {
    double sum = 0.0;
    for (int i = 0; i < n; ++i) sum += x[i];
    const float mean = (float)(sum / n);
    double var = 0.0;
    for (int i = 0; i < n; ++i) var += (double)(x[i] - mean) * (x[i] - mean);
    const float scale = 1.0f / std::sqrt((float)(var / n) + eps);
    for (int i = 0; i < n; ++i) out[i] = (x[i] - mean) * scale * w[i] + b[i];
}

void add_bias(float* x, const float* b, int n) {
    for (int i = 0; i < n; ++i) x[i] += b[i];
}

void softmax(float* x, int n) {
    float mx = -INFINITY;
    for (int i = 0; i < n; ++i) mx = std::max(mx, x[i]);
    double sum = 0.0;
    for (int i = 0; i < n; ++i) {
        x[i] = x[i] == -INFINITY ? 0.0f : std::exp(x[i] - mx);
        sum += x[i];
    }
    const float inv = sum > 0 ? (float)(1.0 / sum) : 0.0f;
    for (int i = 0; i < n; ++i) x[i] *= inv;
}

}  // namespace lokal::model
