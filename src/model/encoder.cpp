#include "model/encoder.h"

#include <algorithm>
#include <cmath>

#include "base/error.h"
#include "kernels/cpu/rope.h"
#include "kernels/cpu/row_ops.h"

namespace lokal::model {

using kernels::RopeTable;
using kernels::add_bias;
using kernels::gelu_inplace;
using kernels::layer_norm;
using kernels::rope_apply;
using kernels::softmax;
using kernels::swiglu;

Encoder::Encoder(const Model& model, int n_threads)
    : model_(model), pool_(n_threads > 0 ? n_threads : ThreadPool::default_threads()) {
    if (!model.config().encoder_only) {
        throw Error("'" + model.config().arch + "' is not an embedding (encoder) model");
    }
}

std::vector<float> Encoder::hidden_states(std::span<const int32_t> tokens) {
    const ModelConfig& c = model_.config();
    const Weights& w = model_.weights();
    const EncoderWeights& enc = w.encoder;
    const int n = (int)tokens.size(), E = c.n_embd, F = c.n_ff, hd = c.head_dim, nh = c.n_head;
    if (n == 0) throw Error("nothing to embed: the text has no tokens");
    if (n > c.n_ctx_train) {
        throw Error("the text has " + std::to_string(n) + " tokens; this model takes at most " +
                    std::to_string(c.n_ctx_train));
    }
    std::vector<float> x((size_t)n * E), t1((size_t)n * E), q(t1.size()), k(t1.size()),
        v(t1.size()), attn(t1.size()), h((size_t)n * std::max(F, 3 * E)), gate((size_t)n * F),
        row(E);
    for (int t = 0; t < n; ++t) {
        if (tokens[t] < 0 || tokens[t] >= c.n_vocab) throw Error("token id out of range");
        float* xr = &x[(size_t)t * E];
        kernels::get_row(w.tok_embd, tokens[t], xr);
        if (enc.pos_embd.rows > 0) {
            kernels::get_row(enc.pos_embd, t, row.data());
        } else {
            std::fill(row.begin(), row.end(), 0.0f);
        }
        for (int i = 0; i < E; ++i) xr[i] += (enc.type0.empty() ? 0.0f : enc.type0[i]) + row[i];
        layer_norm(xr, enc.tok_norm.data(), enc.tok_norm_b.data(), xr, E, c.norm_eps);
    }
    const float scale = 1.0f / std::sqrt((float)hd);
    for (const EncoderLayerWeights& L : enc.layers) {
        if (L.wqkv.rows > 0) {
            std::vector<float>& qkv = h;  // n * 3E fits: checked below
            kernels::matmul(L.wqkv, x.data(), n, qkv.data(), 3 * E, pool_, scratch_);
            for (int t = 0; t < n; ++t) {
                const float* r = &qkv[(size_t)t * 3 * E];
                std::copy(r, r + E, &q[(size_t)t * E]);
                std::copy(r + E, r + 2 * E, &k[(size_t)t * E]);
                std::copy(r + 2 * E, r + 3 * E, &v[(size_t)t * E]);
            }
        } else {
            kernels::matmul(L.wq, x.data(), n, q.data(), E, pool_, scratch_);
            kernels::matmul(L.wk, x.data(), n, k.data(), E, pool_, scratch_);
            kernels::matmul(L.wv, x.data(), n, v.data(), E, pool_, scratch_);
        }
        for (int t = 0; t < n; ++t) {
            if (!L.bq.empty()) add_bias(&q[(size_t)t * E], L.bq.data(), E);
            if (!L.bk.empty()) add_bias(&k[(size_t)t * E], L.bk.data(), E);
            if (!L.bv.empty()) add_bias(&v[(size_t)t * E], L.bv.data(), E);
            if (c.rope.n_rot > 0) {
                RopeTable rope;
                rope.compute(c.rope, t);
                rope_apply(&q[(size_t)t * E], nh, hd, c.rope, rope);
                rope_apply(&k[(size_t)t * E], nh, hd, c.rope, rope);
            }
        }
        pool_.parallel_for((int64_t)n * nh, 1, [&](int64_t j0, int64_t j1) {
            std::vector<float> s(n);
            for (int64_t job = j0; job < j1; ++job) {
                const int t = (int)(job / nh), hh = (int)(job % nh);
                const float* qv = &q[(size_t)t * E + (size_t)hh * hd];
                for (int j = 0; j < n; ++j) {
                    const float* kv = &k[(size_t)j * E + (size_t)hh * hd];
                    float dot = 0.0f;
                    for (int d = 0; d < hd; ++d) dot += qv[d] * kv[d];
                    s[j] = dot * scale;
                }
                softmax(s.data(), n);
                float* out = &attn[(size_t)t * E + (size_t)hh * hd];
                for (int d = 0; d < hd; ++d) out[d] = 0.0f;
                for (int j = 0; j < n; ++j) {
                    const float* vv = &v[(size_t)j * E + (size_t)hh * hd];
                    for (int d = 0; d < hd; ++d) out[d] += s[j] * vv[d];
                }
            }
        });
        kernels::matmul(L.wo, attn.data(), n, t1.data(), E, pool_, scratch_);
        for (int t = 0; t < n; ++t) {
            float* xr = &x[(size_t)t * E];
            const float* o = &t1[(size_t)t * E];
            for (int i = 0; i < E; ++i) xr[i] += o[i] + (L.bo.empty() ? 0.0f : L.bo[i]);
            layer_norm(xr, L.attn_norm.data(), L.attn_norm_b.data(), xr, E, c.norm_eps);
        }
        kernels::matmul(L.w_up, x.data(), n, h.data(), F, pool_, scratch_);
        if (L.w_gate.rows > 0) {
            kernels::matmul(L.w_gate, x.data(), n, gate.data(), F, pool_, scratch_);
        }
        for (int t = 0; t < n; ++t) {
            float* hr = &h[(size_t)t * F];
            if (!L.b_up.empty()) add_bias(hr, L.b_up.data(), F);
            if (L.w_gate.rows > 0) {
                swiglu(&gate[(size_t)t * F], hr, hr, F);
            } else {
                gelu_inplace(hr, F);
            }
        }
        kernels::matmul(L.w_down, h.data(), n, t1.data(), E, pool_, scratch_);
        for (int t = 0; t < n; ++t) {
            float* xr = &x[(size_t)t * E];
            const float* d = &t1[(size_t)t * E];
            for (int i = 0; i < E; ++i) xr[i] += d[i] + (L.b_down.empty() ? 0.0f : L.b_down[i]);
            layer_norm(xr, L.out_norm.data(), L.out_norm_b.data(), xr, E, c.norm_eps);
        }
    }
    return x;
}

std::vector<float> Encoder::rank_scores(const float* h_cls) {
    const ModelConfig& c = model_.config();
    const EncoderWeights& enc = model_.weights().encoder;
    std::vector<float> h(h_cls, h_cls + c.n_embd);
    if (enc.cls.rows > 0) {
        std::vector<float> t(c.n_embd);
        kernels::matmul(enc.cls, h.data(), 1, t.data(), c.n_embd, pool_, scratch_);
        if (!enc.cls_b.empty()) add_bias(t.data(), enc.cls_b.data(), c.n_embd);
        for (int i = 0; i < c.n_embd; ++i) h[i] = std::tanh(t[i]);
    }
    std::vector<float> out(enc.cls_out.rows);
    kernels::matmul(enc.cls_out, h.data(), 1, out.data(), enc.cls_out.rows, pool_, scratch_);
    if (!enc.cls_out_b.empty()) add_bias(out.data(), enc.cls_out_b.data(), (int)out.size());
    return out;
}

std::vector<float> Encoder::embed(std::span<const int32_t> tokens) {
    const ModelConfig& c = model_.config();
    const int n = (int)tokens.size(), E = c.n_embd;
    const std::vector<float> x = hidden_states(tokens);
    if (c.pooling == Pooling::Rank) return rank_scores(x.data());
    std::vector<float> out(E, 0.0f);
    switch (c.pooling) {
        case Pooling::Mean:
        case Pooling::None:
            for (int t = 0; t < n; ++t) {
                for (int i = 0; i < E; ++i) out[i] += x[(size_t)t * E + i] / (float)n;
            }
            break;
        case Pooling::Cls:
            std::copy(x.begin(), x.begin() + E, out.begin());
            break;
        case Pooling::Last:
            std::copy(x.end() - E, x.end(), out.begin());
            break;
        case Pooling::Rank:
            break;
    }
    double norm = 0.0;
    for (float f : out) norm += (double)f * f;
    const float inv = norm > 0 ? (float)(1.0 / std::sqrt(norm)) : 0.0f;
    for (float& f : out) f *= inv;
    return out;
}

}  // namespace lokal::model
