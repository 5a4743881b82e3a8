#include "model/context.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "base/error.h"
#include "model/blocks.h"

namespace lokal::model {

Context::Context(const Model& model, ContextParams params)
    : model_(model),
      pool_(params.n_threads > 0 ? params.n_threads : ThreadPool::default_threads()) {
    const ModelConfig& c = model.config();
    n_ctx_ = params.n_ctx > 0 ? params.n_ctx : std::min(c.n_ctx_train, 4096);
    n_batch_ = std::max(1, std::min(params.n_batch, n_ctx_));
    n_vocab_ = c.n_vocab;
    const size_t kv = (size_t)c.n_head_kv * c.head_dim;
    const size_t q = (size_t)c.n_head * c.head_dim;
    k_cache_.assign((size_t)c.n_layer * n_ctx_ * kv, 0.0f);
    v_cache_.assign((size_t)c.n_layer * n_ctx_ * kv, 0.0f);
    const size_t B = n_batch_;
    x_.resize(B * c.n_embd);
    xn_.resize(B * c.n_embd);
    q_.resize(B * q);
    k_.resize(B * kv);
    v_.resize(B * kv);
    attn_.resize(B * q);
    gate_.resize(B * c.n_ff);
    up_.resize(B * c.n_ff);
    scores_.resize((size_t)pool_.size() * n_ctx_);
    logits_.resize(n_vocab_);
}

Context::~Context() = default;

void Context::truncate(int n) {
    n_past_ = std::clamp(n, 0, n_past_);
}

void Context::eval(std::span<const int32_t> tokens, bool all_logits) {
    const int n = (int)tokens.size();
    if (n == 0) return;
    if ((int64_t)n_past_ + n > n_ctx_) {
        throw Error("the prompt and answer need " + std::to_string(n_past_ + n) +
                    " tokens but the context holds " + std::to_string(n_ctx_) +
                    "; use a larger --ctx or a shorter prompt");
    }
    for (int32_t t : tokens) {
        if (t < 0 || t >= n_vocab_) {
            throw Error("token id " + std::to_string(t) + " is outside the vocabulary (0.." +
                        std::to_string(n_vocab_ - 1) + ")");
        }
    }
    if (all_logits && logits_.size() < (size_t)n * n_vocab_) logits_.resize((size_t)n * n_vocab_);
    for (int done = 0; done < n;) {
        const int chunk = std::min(n_batch_, n - done);
        const bool last_chunk = done + chunk == n;
        float* out = all_logits ? logits_.data() + (size_t)done * n_vocab_
                                : (last_chunk ? logits_.data() : nullptr);
        forward_batch(tokens.data() + done, chunk, all_logits, out);
        done += chunk;
    }
}

void Context::forward_batch(const int32_t* tokens, int n, bool all_logits, float* logits_out) {
    const ModelConfig& c = model_.config();
    const Weights& w = model_.weights();
    const int E = c.n_embd, hd = c.head_dim, nh = c.n_head, nkv = c.n_head_kv;
    const int Q = nh * hd, KV = nkv * hd;
    const int group = nh / nkv;
    const float kq_scale = 1.0f / std::sqrt((float)hd);

    for (int t = 0; t < n; ++t) kernels::get_row(w.tok_embd, tokens[t], &x_[(size_t)t * E]);

    for (int l = 0; l < c.n_layer; ++l) {
        const LayerWeights& L = w.layers[l];
        float* kc = &k_cache_[(size_t)l * n_ctx_ * KV];
        float* vc = &v_cache_[(size_t)l * n_ctx_ * KV];

        // Attention block.
        for (int t = 0; t < n; ++t) {
            rms_norm(&x_[(size_t)t * E], L.attn_norm.data(), &xn_[(size_t)t * E], E, c.norm_eps);
        }
        kernels::matmul(L.wq, xn_.data(), n, q_.data(), Q, pool_, mm_scratch_);
        kernels::matmul(L.wk, xn_.data(), n, k_.data(), KV, pool_, mm_scratch_);
        kernels::matmul(L.wv, xn_.data(), n, v_.data(), KV, pool_, mm_scratch_);
        pool_.parallel_for(n, 1, [&](int64_t t0, int64_t t1) {
            RopeTable rope;
            for (int64_t t = t0; t < t1; ++t) {
                rope.compute(c.rope, n_past_ + (int)t);
                rope_apply(&q_[(size_t)t * Q], nh, hd, c.rope, rope);
                rope_apply(&k_[(size_t)t * KV], nkv, hd, c.rope, rope);
                std::memcpy(&kc[(size_t)(n_past_ + t) * KV], &k_[(size_t)t * KV],
                            KV * sizeof(float));
                std::memcpy(&vc[(size_t)(n_past_ + t) * KV], &v_[(size_t)t * KV],
                            KV * sizeof(float));
            }
        });
        pool_.run([&](int ith, int nth) {
            float* s = &scores_[(size_t)ith * n_ctx_];
            auto [b, e] = ThreadPool::split_range((int64_t)n * nh, ith, nth);
            for (int64_t job = b; job < e; ++job) {
                const int t = (int)(job / nh), h = (int)(job % nh);
                const int kvh = h / group;
                const int n_keys = n_past_ + t + 1;
                const float* qv = &q_[(size_t)t * Q + (size_t)h * hd];
                for (int j = 0; j < n_keys; ++j) {
                    const float* kv = &kc[(size_t)j * KV + (size_t)kvh * hd];
                    float dot = 0.0f;
                    for (int d = 0; d < hd; ++d) dot += qv[d] * kv[d];
                    s[j] = dot * kq_scale;
                }
                softmax(s, n_keys);
                float* out = &attn_[(size_t)t * Q + (size_t)h * hd];
                std::fill(out, out + hd, 0.0f);
                for (int j = 0; j < n_keys; ++j) {
                    const float* vv = &vc[(size_t)j * KV + (size_t)kvh * hd];
                    const float p = s[j];
                    for (int d = 0; d < hd; ++d) out[d] += p * vv[d];
                }
            }
        });
        kernels::matmul(L.wo, attn_.data(), n, xn_.data(), E, pool_, mm_scratch_);
        for (size_t i = 0; i < (size_t)n * E; ++i) x_[i] += xn_[i];

        // Feed-forward block.
        for (int t = 0; t < n; ++t) {
            rms_norm(&x_[(size_t)t * E], L.ffn_norm.data(), &xn_[(size_t)t * E], E, c.norm_eps);
        }
        kernels::matmul(L.w_gate, xn_.data(), n, gate_.data(), c.n_ff, pool_, mm_scratch_);
        kernels::matmul(L.w_up, xn_.data(), n, up_.data(), c.n_ff, pool_, mm_scratch_);
        for (int t = 0; t < n; ++t) {
            swiglu(&gate_[(size_t)t * c.n_ff], &up_[(size_t)t * c.n_ff], &gate_[(size_t)t * c.n_ff],
                   c.n_ff);
        }
        kernels::matmul(L.w_down, gate_.data(), n, xn_.data(), E, pool_, mm_scratch_);
        for (size_t i = 0; i < (size_t)n * E; ++i) x_[i] += xn_[i];
    }

    n_past_ += n;
    if (!logits_out) return;
    // Only the rows whose logits are wanted go through the (large) output matrix.
    const int first = all_logits ? 0 : n - 1;
    const int rows = n - first;
    for (int t = first; t < n; ++t) {
        rms_norm(&x_[(size_t)t * E], w.output_norm.data(), &xn_[(size_t)(t - first) * E], E,
                 c.norm_eps);
    }
    kernels::matmul(w.output, xn_.data(), rows, logits_out, n_vocab_, pool_, mm_scratch_);
}

}  // namespace lokal::model
