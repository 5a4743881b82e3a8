#include "kernels/cpu/row_ops.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "base/fp16.h"
#include "kernels/cpu/vec_dot.h"
#include "kernels/cpu/row_ops_internal.h"
#include "kernels/cpu/exp_poly.h"

namespace lokal::kernels {

void rms_norm(const float* x, const float* w, float* out, int n, float eps) {
    double sum = 0.0;
    for (int i = 0; i < n; ++i) sum += (double)x[i] * x[i];
    const float scale = 1.0f / std::sqrt((float)(sum / n) + eps);
    for (int i = 0; i < n; ++i) out[i] = x[i] * scale * w[i];
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

GluFn swiglu_kernel(Isa isa) {
#if defined(__x86_64__) || defined(_M_X64)
    if (isa == Isa::Avx2 || isa == Isa::Avx512 || isa == Isa::Amx) return detail::swiglu_avx2;
#else
    (void)isa;
#endif
    return detail::swiglu_scalar;
}

void swiglu(const float* gate, const float* up, float* out, int n) {
    static const GluFn kernel = swiglu_kernel(active_isa());
    kernel(gate, up, out, n);
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

}  // namespace lokal::kernels
