#include "model/context.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>

#include "base/error.h"
#include "kernels/cpu/attention.h"
#include "kernels/cpu/attention_tiled.h"
#include "kernels/cpu/rope.h"
#include "kernels/cpu/row_ops.h"

namespace lokal::model {

using kernels::AttentionParams;
using kernels::QueryRow;
using kernels::RopeTable;
using kernels::add_bias;
using kernels::attend_group;
using kernels::attend_tiled;
using kernels::geglu;
using kernels::kMaxGroupHeads;
using kernels::kTiledMaxHeadDim;
using kernels::kTiledMinQueries;
using kernels::kTiledRows;
using kernels::rms_norm;
using kernels::rope_apply;
using kernels::swiglu;
using kernels::tiled_scratch_floats;

Context::Context(const Model& model, ContextParams params)
    : model_(model),
      pool_(params.n_threads > 0 ? params.n_threads : ThreadPool::default_threads()) {
    const ModelConfig& c = model.config();
    if (c.encoder_only) {
        throw Error("this is an embedding model ('" + c.arch + "'); it makes embeddings, not text");
    }
    n_ctx_ = params.n_ctx > 0 ? params.n_ctx : std::min(c.n_ctx_train, 4096);
    n_batch_ = std::max(1, std::min(params.n_batch, n_ctx_));
    rope_ = c.rope;
    rope_swa_ = c.rope_swa;
    for (RopeConfig* r : {&rope_, &rope_swa_}) {
        if (!r->freq_factors_long.empty() && n_ctx_ > r->n_ctx_orig) {
            r->freq_factors = r->freq_factors_long;
            r->yarn_attn_factor = r->long_attn_factor;
        }
    }
    n_vocab_ = c.n_vocab;
    const size_t kv = (size_t)c.n_head_kv * c.head_dim;
    const size_t q = (size_t)c.n_head * c.head_dim;
    if (params.kv_type == KvType::Q8_0 && c.head_dim % 32 != 0) {
        throw Error(
            "a q8_0 KV cache stores each head in blocks of 32, but this model's head size is " +
            std::to_string(c.head_dim) + "; use an f16 cache (--cache-type f16)");
    }
    const int kv_rows = params.kv_rows > 0 ? params.kv_rows : n_ctx_;
    kv_cache_ = std::make_unique<KvCache>(c.n_layer, (int)kv, params.kv_type, kv_rows);
    n_past_.assign(1, 0);
    const size_t B = n_batch_;
    x_.resize(B * c.n_embd);
    xn_.resize(B * c.n_embd);
    qkv_.resize(B * (q + 2 * kv));
    attn_.resize(B * q);
    ffn_.resize(B * 2 * c.n_ff);
    act_.resize(B * c.n_ff);
    logits_.resize(n_vocab_);
    for (auto* v : {&batch_tok_, &batch_seq_, &batch_pos_, &logit_rows_}) v->resize(B);
    tiled_token_.resize(B);
    if (c.head_dim <= kTiledMaxHeadDim) {
        const int group = c.n_head / c.n_head_kv;
        const size_t slices = (size_t)(group + kTiledRows - 1) / kTiledRows;
        tiled_jobs_.reserve(B * c.n_head_kv * slices);
        tiled_scratch_.resize((size_t)pool_.size() * tiled_scratch_floats(c.head_dim));
    }
}

Context::~Context() = default;

size_t Context::kv_cache_bytes() const {
    return kv_cache_->bytes();
}

std::vector<float> Context::embed(std::span<const int32_t> tokens, Pooling pooling) {
    truncate(0);
    std::vector<float> hidden;
    hidden.reserve(tokens.size() * (size_t)model_.config().n_embd);
    hidden_sink_ = &hidden;
    try {
        eval(tokens, false);
    } catch (...) {
        hidden_sink_ = nullptr;
        throw;
    }
    hidden_sink_ = nullptr;
    truncate(0);
    const int E = model_.config().n_embd, n = (int)tokens.size();
    std::vector<float> out(E, 0.0f);
    if (pooling == Pooling::Mean || pooling == Pooling::None) {
        for (int t = 0; t < n; ++t) {
            for (int i = 0; i < E; ++i) out[i] += hidden[(size_t)t * E + i] / (float)n;
        }
    } else {
        const int t = pooling == Pooling::Cls ? 0 : n - 1;
        std::copy(hidden.begin() + (size_t)t * E, hidden.begin() + (size_t)(t + 1) * E,
                  out.begin());
    }
    double norm = 0.0;
    for (float f : out) norm += (double)f * f;
    const float inv = norm > 0 ? (float)(1.0 / std::sqrt(norm)) : 0.0f;
    for (float& f : out) f *= inv;
    return out;
}

int Context::truncate(int n) {
    seq_truncate(0, n);
    return n_past();
}

void Context::seq_truncate(int seq, int n) {
    LOKAL_ASSERT(seq >= 0);
    if ((size_t)seq >= n_past_.size()) n_past_.resize((size_t)seq + 1, 0);
    n_past_[seq] = std::clamp(n, 0, n_past_[seq]);
    kv_cache_->truncate(seq, n_past_[seq]);
}

void Context::seq_copy_prefix(int src, int dst, int n) {
    LOKAL_ASSERT(src >= 0 && dst >= 0);
    const int m = std::max(src, dst);
    if ((size_t)m >= n_past_.size()) n_past_.resize((size_t)m + 1, 0);
    n = std::clamp(n, 0, n_past_[src]);
    kv_cache_->copy_prefix(src, dst, n);
    n_past_[dst] = n;
}

void Context::check_tokens(std::span<const BatchToken> batch) {
    for (const BatchToken& b : batch) {
        if (b.token < 0 || b.token >= n_vocab_) {
            throw Error("token id " + std::to_string(b.token) + " is outside the vocabulary (0.." +
                        std::to_string(n_vocab_ - 1) + ")");
        }
        LOKAL_ASSERT(b.seq >= 0);
    }
}

void Context::eval(std::span<const int32_t> tokens, bool all_logits) {
    const int n = (int)tokens.size();
    if (n == 0) return;
    if ((int64_t)n_past() + n > n_ctx_) {
        throw Error("the prompt and answer need " + std::to_string(n_past() + n) +
                    " tokens but the context holds " + std::to_string(n_ctx_) +
                    "; use a larger --ctx or a shorter prompt");
    }
    for (int32_t t : tokens) {
        if (t < 0 || t >= n_vocab_) {
            throw Error("token id " + std::to_string(t) + " is outside the vocabulary (0.." +
                        std::to_string(n_vocab_ - 1) + ")");
        }
    }
    if (!kv_cache_->reserve(0, n_past(), n_past() + n)) {
        throw Error("the KV cache is full (" + std::to_string(kv_cache_->pages_total()) +
                    " pages); use a larger --ctx");
    }
    if (all_logits && logits_.size() < (size_t)n * n_vocab_) logits_.resize((size_t)n * n_vocab_);
    for (int done = 0; done < n;) {
        const int chunk = std::min(n_batch_, n - done);
        const bool last_chunk = done + chunk == n;
        int rows = 0;
        for (int t = 0; t < chunk; ++t) {
            batch_tok_[t] = tokens[done + t];
            batch_seq_[t] = 0;
            batch_pos_[t] = n_past_[0] + t;
            if (all_logits || (last_chunk && t == chunk - 1)) logit_rows_[rows++] = t;
        }
        float* out = all_logits ? logits_.data() + (size_t)done * n_vocab_ : logits_.data();
        forward_batch(chunk, rows, out);
        n_past_[0] += chunk;
        done += chunk;
    }
}

bool Context::decode(std::span<const BatchToken> batch) {
    const int n = (int)batch.size();
    if (n == 0) return true;
    if (n > n_batch_) {
        throw Error("a batch of " + std::to_string(n) + " tokens exceeds n_batch " +
                    std::to_string(n_batch_));
    }
    check_tokens(batch);
    int max_seq = 0;
    for (const BatchToken& b : batch) max_seq = std::max(max_seq, (int)b.seq);
    if ((size_t)max_seq >= n_past_.size()) n_past_.resize((size_t)max_seq + 1, 0);
    // Positions follow each sequence's history, in batch order.
    int rows = 0;
    for (int t = 0; t < n; ++t) {
        const int s = batch[t].seq;
        int pos = n_past_[s];
        for (int u = 0; u < t; ++u) pos += batch[u].seq == s;
        if (pos >= n_ctx_) {
            throw Error("sequence " + std::to_string(s) + " would need " + std::to_string(pos + 1) +
                        " tokens but the context holds " + std::to_string(n_ctx_));
        }
        batch_tok_[t] = batch[t].token;
        batch_seq_[t] = s;
        batch_pos_[t] = pos;
        if (batch[t].logits) logit_rows_[rows++] = t;
    }
    // Back every new position with a writable page; undo all of it if the pool runs out.
    for (int t = 0; t < n; ++t) {
        const int s = batch_seq_[t];
        if (batch_pos_[t] != n_past_[s]) continue;  // first token of s in this batch
        int last = batch_pos_[t];
        for (int u = t; u < n; ++u) {
            if (batch_seq_[u] == s) last = batch_pos_[u];
        }
        if (!kv_cache_->reserve(s, n_past_[s], last + 1)) {
            for (int u = 0; u < n; ++u) kv_cache_->truncate(batch_seq_[u], n_past_[batch_seq_[u]]);
            return false;
        }
    }
    if (logits_.size() < (size_t)rows * n_vocab_) logits_.resize((size_t)rows * n_vocab_);
    forward_batch(n, rows, logits_.data());
    for (int t = 0; t < n; ++t)
        n_past_[batch_seq_[t]] = std::max(n_past_[batch_seq_[t]], batch_pos_[t] + 1);
    return true;
}

void Context::forward_batch(int n, int n_logit_rows, float* logits_out) {
    const ModelConfig& c = model_.config();
    const Weights& w = model_.weights();
    const int E = c.n_embd, hd = c.head_dim, nh = c.n_head, nkv = c.n_head_kv, F = c.n_ff;
    const int Q = nh * hd, KV = nkv * hd, QKV = Q + 2 * KV;

    const int32_t* tokens = batch_tok_.data();
    const int32_t* seqs = batch_seq_.data();
    const int32_t* positions = batch_pos_.data();
    for (int t = 0; t < n; ++t) kernels::get_row(w.tok_embd, tokens[t], &x_[(size_t)t * E]);
    if (c.scale_embeddings) {
        const float s = std::sqrt((float)E);
        for (size_t i = 0; i < (size_t)n * E; ++i) x_[i] *= s;
    }

    plan_tiled_attention(n);
    for (int l = 0; l < c.n_layer; ++l) {
        const LayerWeights& L = w.layers[l];
        const bool swa = c.is_swa(l);
        const RopeConfig& rope_cfg = swa ? rope_swa_ : rope_;

        // Attention block: q, k, v side by side in one row per token.
        for (int t = 0; t < n; ++t) {
            rms_norm(&x_[(size_t)t * E], L.attn_norm.data(), &xn_[(size_t)t * E], E, c.norm_eps);
        }
        if (L.fused_qkv()) {
            kernels::matmul(L.wqkv, xn_.data(), n, qkv_.data(), QKV, pool_, mm_scratch_);
        } else {
            kernels::matmul(L.wq, xn_.data(), n, qkv_.data(), QKV, pool_, mm_scratch_);
            kernels::matmul(L.wk, xn_.data(), n, qkv_.data() + Q, QKV, pool_, mm_scratch_);
            kernels::matmul(L.wv, xn_.data(), n, qkv_.data() + Q + KV, QKV, pool_, mm_scratch_);
        }
        pool_.parallel_for(n, std::max(1, 4096 / QKV), [&](int64_t t0, int64_t t1) {
            RopeTable rope;
            for (int64_t t = t0; t < t1; ++t) {
                float* q = &qkv_[(size_t)t * QKV];
                float* k = q + Q;
                float* v = k + KV;
                if (!L.bq.empty()) add_bias(q, L.bq.data(), Q);
                if (!L.bk.empty()) add_bias(k, L.bk.data(), KV);
                if (!L.bv.empty()) add_bias(v, L.bv.data(), KV);
                if (!L.q_norm.empty()) {
                    for (int h = 0; h < nh; ++h) {
                        rms_norm(q + h * hd, L.q_norm.data(), q + h * hd, hd, c.norm_eps);
                    }
                }
                if (!L.k_norm.empty()) {
                    for (int h = 0; h < nkv; ++h) {
                        rms_norm(k + h * hd, L.k_norm.data(), k + h * hd, hd, c.norm_eps);
                    }
                }
                rope.compute(rope_cfg, positions[t]);
                rope_apply(q, nh, hd, rope_cfg, rope);
                rope_apply(k, nkv, hd, rope_cfg, rope);
                kv_cache_->store(seqs[t], l, positions[t], k, v);
            }
        });
        attend_layer(l, n);
        kernels::matmul(L.wo, attn_.data(), n, xn_.data(), E, pool_, mm_scratch_);
        if (!L.attn_post_norm.empty()) {
            for (int t = 0; t < n; ++t) {
                float* r = &xn_[(size_t)t * E];
                rms_norm(r, L.attn_post_norm.data(), r, E, c.norm_eps);
            }
        }
        for (size_t i = 0; i < (size_t)n * E; ++i) x_[i] += xn_[i];

        // Feed-forward block: gate and up side by side in one row per token.
        for (int t = 0; t < n; ++t) {
            rms_norm(&x_[(size_t)t * E], L.ffn_norm.data(), &xn_[(size_t)t * E], E, c.norm_eps);
        }
        if (L.fused_gate_up()) {
            kernels::matmul(L.w_up, xn_.data(), n, ffn_.data(), 2 * F, pool_, mm_scratch_);
        } else {
            kernels::matmul(L.w_gate, xn_.data(), n, ffn_.data(), 2 * F, pool_, mm_scratch_);
            kernels::matmul(L.w_up, xn_.data(), n, ffn_.data() + F, 2 * F, pool_, mm_scratch_);
        }
        pool_.parallel_for(n, std::max(1, 16384 / F), [&](int64_t t0, int64_t t1) {
            for (int64_t t = t0; t < t1; ++t) {
                float* g = &ffn_[(size_t)t * 2 * F];
                float* out = &act_[(size_t)t * F];
                if (c.activation == Activation::GeluTanh) {
                    geglu(g, g + F, out, F);
                } else {
                    swiglu(g, g + F, out, F);
                }
            }
        });
        kernels::matmul(L.w_down, act_.data(), n, xn_.data(), E, pool_, mm_scratch_);
        if (!L.ffn_post_norm.empty()) {
            for (int t = 0; t < n; ++t) {
                float* r = &xn_[(size_t)t * E];
                rms_norm(r, L.ffn_post_norm.data(), r, E, c.norm_eps);
            }
        }
        for (size_t i = 0; i < (size_t)n * E; ++i) x_[i] += xn_[i];
    }

    if (hidden_sink_) {
        // Embedding mode: keep the final normalised hidden state of every token, no logits.
        for (int t = 0; t < n; ++t) {
            const size_t at = hidden_sink_->size();
            hidden_sink_->resize(at + E);
            rms_norm(&x_[(size_t)t * E], w.output_norm.data(), hidden_sink_->data() + at, E,
                     c.norm_eps);
        }
        return;
    }
    // Only the rows whose logits are wanted go through the (large) output matrix.
    const int rows = n_logit_rows;
    if (rows == 0) return;
    for (int r = 0; r < rows; ++r) {
        rms_norm(&x_[(size_t)logit_rows_[r] * E], w.output_norm.data(), &xn_[(size_t)r * E], E,
                 c.norm_eps);
    }
    kernels::matmul(w.output, xn_.data(), rows, logits_out, n_vocab_, pool_, mm_scratch_);
    if (c.final_softcap > 0) {
        const float cap = c.final_softcap;
        for (size_t i = 0; i < (size_t)rows * n_vocab_; ++i) {
            logits_out[i] = cap * std::tanh(logits_out[i] / cap);
        }
    }
}

void Context::plan_tiled_attention(int n) {
    tiled_jobs_.clear();
    std::fill_n(tiled_token_.begin(), n, 0);
    if (tiled_scratch_.empty()) return;
    const ModelConfig& c = model_.config();
    const int group = c.n_head / c.n_head_kv;
    const int heads = std::min(group, kTiledRows);
    const int tokens_per_job = std::max(1, kTiledRows / heads);
    seq_tokens_.assign(n_past_.size(), 0);
    for (int t = 0; t < n; ++t) ++seq_tokens_[batch_seq_[t]];
    for (int t = 0; t < n;) {
        const int s = batch_seq_[t];
        if (seq_tokens_[s] < kTiledMinQueries) {
            ++t;
            continue;
        }
        int nt = 1;
        while (t + nt < n && nt < tokens_per_job && batch_seq_[t + nt] == s) ++nt;
        std::fill_n(tiled_token_.begin() + t, nt, 1);
        for (int kvh = 0; kvh < c.n_head_kv; ++kvh) {
            for (int g0 = 0; g0 < group; g0 += heads) {
                tiled_jobs_.push_back({t, nt, kvh, g0, std::min(heads, group - g0)});
            }
        }
        t += nt;
    }
}

void Context::attend_layer(int l, int n) {
    const ModelConfig& c = model_.config();
    const int hd = c.head_dim, nkv = c.n_head_kv, group = c.n_head / nkv;
    const int Q = c.n_head * hd, QKV = Q + 2 * nkv * hd;
    const bool swa = c.is_swa(l);
    const int32_t* seqs = batch_seq_.data();
    const int32_t* positions = batch_pos_.data();
    AttentionParams base;
    base.head_dim = hd;
    base.scale = c.attn_scale > 0 ? c.attn_scale : 1.0f / std::sqrt((float)hd);
    base.softcap = c.attn_softcap;
    auto first_visible = [&](int last) { return swa ? std::max(0, last - c.n_swa + 1) : 0; };

    if (!tiled_jobs_.empty()) {
        // Jobs later in the batch see more keys: hand them out from the last one back, one at a
        // time, so the threads finish together.
        std::atomic<int64_t> next{(int64_t)tiled_jobs_.size() - 1};
        pool_.run([&](int ith, int) {
            float* scratch = tiled_scratch_.data() + (size_t)ith * tiled_scratch_floats(hd);
            QueryRow rows[kTiledRows];
            for (int64_t job = next.fetch_sub(1); job >= 0; job = next.fetch_sub(1)) {
                const TiledJob& j = tiled_jobs_[job];
                AttentionParams ap = base;
                ap.kv_offset = j.kvh * hd;
                int nr = 0;
                for (int t = j.t0; t < j.t0 + j.nt; ++t) {
                    for (int g = j.g0; g < j.g0 + j.ng; ++g) {
                        const size_t h = (size_t)j.kvh * group + g;
                        rows[nr++] = {&qkv_[(size_t)t * QKV + h * hd],
                                      &attn_[(size_t)t * Q + h * hd], first_visible(positions[t]),
                                      positions[t]};
                    }
                }
                attend_tiled({rows, (size_t)nr}, kv_cache_->view(seqs[j.t0]), l, ap, scratch);
            }
        });
    }

    // The other tokens: one job is a token's query heads that share a KV head (they read the
    // cache together). Later tokens see more keys: threads take every nth job so each gets an
    // even share of short and long rows. Small jobs stay on one thread.
    int n_rest = 0;
    for (int t = 0; t < n; ++t) n_rest += tiled_token_[t] == 0 ? 1 : 0;
    if (n_rest == 0) return;
    const int64_t n_jobs = (int64_t)n * nkv;
    const bool one_thread = (int64_t)n_rest * nkv * group * hd * (positions[n - 1] + 1) < 65536;
    auto attend_jobs = [&](int ith, int nth) {
        const float* q_heads[kMaxGroupHeads];
        float* out_heads[kMaxGroupHeads];
        for (int64_t job = ith; job < n_jobs; job += nth) {
            const int t = (int)(job / nkv), kvh = (int)(job % nkv);
            if (tiled_token_[t] != 0) continue;
            AttentionParams ap = base;
            ap.kv_offset = kvh * hd;
            ap.last = positions[t];
            ap.first = first_visible(ap.last);
            for (int g0 = 0; g0 < group; g0 += kMaxGroupHeads) {
                const int ng = std::min(kMaxGroupHeads, group - g0);
                for (int g = 0; g < ng; ++g) {
                    const size_t h = (size_t)kvh * group + g0 + g;
                    q_heads[g] = &qkv_[(size_t)t * QKV + h * hd];
                    out_heads[g] = &attn_[(size_t)t * Q + h * hd];
                }
                attend_group(q_heads, ng, kv_cache_->view(seqs[t]), l, ap, out_heads);
            }
        }
    };
    if (one_thread) {
        attend_jobs(0, 1);
    } else {
        pool_.run(attend_jobs);
    }
}

}  // namespace lokal::model
