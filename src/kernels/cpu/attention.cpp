#include "kernels/cpu/attention.h"

#include <cmath>

#include "base/fp16.h"
#include "kernels/cpu/attention_internal.h"
#include "kernels/cpu/row_ops.h"
#include "kernels/cpu/vec_dot.h"

namespace lokal::kernels {
namespace {

using detail::kMaxHeadDim;

template <typename Row>
void attend_impl(const float* q, const KvSeqView& cache, int layer, const AttentionParams& p,
                 float* out, Row to_float) {
    const int hd = p.head_dim;
    float qv[kMaxHeadDim];
    for (int d = 0; d < hd; ++d) qv[d] = q[d];
    float acc[kMaxHeadDim] = {};
    float m = -INFINITY, sum = 0.0f;
    for (int j = p.first; j <= p.last; ++j) {
        const auto* k = to_float.row(cache.k_row(layer, j)) + p.kv_offset;
        float dot = 0.0f;
        for (int d = 0; d < hd; ++d) dot += qv[d] * to_float(k[d]);
        float s = dot * p.scale;
        if (p.softcap > 0) s = p.softcap * std::tanh(s / p.softcap);
        const auto* v = to_float.row(cache.v_row(layer, j)) + p.kv_offset;
        if (s > m) {
            // A new maximum: rescale what has been accumulated so far.
            const float r = std::exp(m - s);
            for (int d = 0; d < hd; ++d) acc[d] *= r;
            sum *= r;
            m = s;
        }
        const float w = std::exp(s - m);
        sum += w;
        for (int d = 0; d < hd; ++d) acc[d] += w * to_float(v[d]);
    }
    const float inv = sum > 0 ? 1.0f / sum : 0.0f;
    for (int d = 0; d < hd; ++d) out[d] = acc[d] * inv;
}

// F16 cache: the value accumulator is kept in F16 too, rounding after every update exactly as
// llama.cpp's CPU flash-attention does, so that our logits agree with it closely (quantized
// activations amplify even tiny differences in attention output).
}  // namespace

float detail::dot_f16_lanes(const float* q, const uint16_t* k, int n) {
    if (n % 8 != 0) {
        float dot = 0.0f;
        for (int d = 0; d < n; ++d) dot += q[d] * fp16_to_fp32(k[d]);
        return dot;
    }
    float lane[8] = {};
    for (int d = 0; d < n; d += 8) {
        for (int l = 0; l < 8; ++l) lane[l] = std::fma(q[d + l], fp16_to_fp32(k[d + l]), lane[l]);
    }
    const float a0 = lane[0] + lane[4], a1 = lane[1] + lane[5], a2 = lane[2] + lane[6],
                a3 = lane[3] + lane[7];
    const float b0 = a0 + a2, b1 = a1 + a3;
    return b0 + b1;
}

void detail::attend_f16_scalar(const float* q, const KvSeqView& cache, int layer,
                               const AttentionParams& p, float* out) {
    const int hd = p.head_dim;
    float qv[kMaxHeadDim];
    for (int d = 0; d < hd; ++d) qv[d] = fp16_to_fp32(fp32_to_fp16(q[d]));
    uint16_t acc[kMaxHeadDim] = {};
    float m = -INFINITY, sum = 0.0f;
    const float scale = score_scale(p);
    for (int j = p.first; j <= p.last; ++j) {
        const uint16_t* k = static_cast<const uint16_t*>(cache.k_row(layer, j)) + p.kv_offset;
        float s = detail::dot_f16_lanes(qv, k, hd) * scale;
        if (p.softcap > 0) s = p.softcap * std::tanh(s);
        const uint16_t* v = static_cast<const uint16_t*>(cache.v_row(layer, j)) + p.kv_offset;
        float ms = 1.0f, vs = 1.0f;
        if (s > m) {
            ms = detail::softmax_exp(m - s);
            m = s;
            for (int d = 0; d < hd; ++d) acc[d] = fp32_to_fp16(fp16_to_fp32(acc[d]) * ms);
        } else {
            vs = detail::softmax_exp(s - m);
        }
        for (int d = 0; d < hd; ++d) {
            acc[d] = fp32_to_fp16(std::fma(fp16_to_fp32(v[d]), vs, fp16_to_fp32(acc[d])));
        }
        sum = sum * ms + vs;
    }
    const float inv = sum > 0 ? 1.0f / sum : 0.0f;
    for (int d = 0; d < hd; ++d) out[d] = fp16_to_fp32(acc[d]) * inv;
}

void detail::quantize_query_q8_0(const float* q, int head_dim, block_q8_0* out) {
    kernels::quantize_activations(DType::Q8_0, q, out, head_dim);
}

void detail::attend_q8_0_scalar(const float* q, const KvSeqView& cache, int layer,
                                const AttentionParams& p, float* out) {
    const int hd = p.head_dim, nb = hd / 32;
    block_q8_0 qq[kMaxHeadDim / 32];
    quantize_query_q8_0(q, hd, qq);
    float acc[kMaxHeadDim] = {};
    float m = -INFINITY, sum = 0.0f;
    const float scale = score_scale(p);
    for (int j = p.first; j <= p.last; ++j) {
        float s = dot_q8_0_blocks(qq, q8_head(cache.k_row(layer, j), p.kv_offset), nb) * scale;
        if (p.softcap > 0) s = p.softcap * std::tanh(s);
        float ms = 1.0f, vs = 1.0f;
        if (s > m) {
            ms = softmax_exp(m - s);
            m = s;
            for (int d = 0; d < hd; ++d) acc[d] *= ms;
        } else {
            vs = softmax_exp(s - m);
        }
        const block_q8_0* v = q8_head(cache.v_row(layer, j), p.kv_offset);
        for (int b = 0; b < nb; ++b) {
            const float dv = fp16_to_fp32(v[b].d);
            for (int i = 0; i < 32; ++i) {
                acc[32 * b + i] = std::fma((float)v[b].qs[i] * dv, vs, acc[32 * b + i]);
            }
        }
        sum = sum * ms + vs;
    }
    const float inv = sum > 0 ? 1.0f / sum : 0.0f;
    for (int d = 0; d < hd; ++d) out[d] = acc[d] * inv;
}

namespace {

struct F32Rows {
    static const float* row(const void* p) { return static_cast<const float*>(p); }
    float operator()(float x) const { return x; }
};

}  // namespace

void detail::attend_f32_scalar(const float* q, const KvSeqView& cache, int layer,
                               const AttentionParams& p, float* out) {
    attend_impl(q, cache, layer, p, out, F32Rows{});
}

void attend_all_rows(const float* q, const float* k, const float* v, size_t row_stride, int n,
                     int head_dim, float scale, float* scores, float* out) {
    for (int j = 0; j < n; ++j) {
        const float* kj = k + (size_t)j * row_stride;
        float dot = 0.0f;
        for (int d = 0; d < head_dim; ++d) dot += q[d] * kj[d];
        scores[j] = dot * scale;
    }
    softmax(scores, n);
    for (int d = 0; d < head_dim; ++d) out[d] = 0.0f;
    for (int j = 0; j < n; ++j) {
        const float* vj = v + (size_t)j * row_stride;
        for (int d = 0; d < head_dim; ++d) out[d] += scores[j] * vj[d];
    }
}

}  // namespace lokal::kernels
