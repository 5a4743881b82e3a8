#include "model/context.h"

#include <algorithm>
#include <cmath>

#include "base/error.h"
#include "kernels/cpu/attention_tiled.h"
#include "model/compute_device.h"
#include "model/gpu_residency.h"
#include "model/offload.h"
#include "model/qkv_projection.h"

namespace lokal::model {

Context::Context(const Model& model, ContextParams params) : model_(model) {
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
    kv_type_ = params.kv_type;
    if (params.kv_type == KvType::Q8_0 && c.head_dim % 32 != 0) {
        throw Error(
            "a q8_0 KV cache stores each head in blocks of 32, but this model's head size is " +
            std::to_string(c.head_dim) + "; use an f16 cache (--cache-type f16)");
    }
    const int n_layer = c.n_layer;
    // The weights other contexts of the model put on the GPU: the plan counts them as there,
    // so they must stay until this context's stages share them.
    const GpuResidency resident = GpuResidency::of(model);
    gpu_layers_ = 0;
    if (compute_device().gpu) {
        const int want = params.gpu_layers >= 0 ? params.gpu_layers : gpu_layers_from_env();
        gpu_layers_ = want >= 0
                          ? std::min(want, n_layer)
                          : gpu_layers_that_fit(model, n_ctx_, params.kv_rows, params.kv_type);
    }
    if (gpu_layers_ > 0) add_stage(0, gpu_layers_, true, params);
    if (gpu_layers_ < n_layer) add_stage(gpu_layers_, n_layer, false, params);
    n_past_.assign(1, 0);
    logits_.resize(n_vocab_);
    for (auto* v : {&batch_tok_, &batch_seq_, &batch_pos_, &logit_rows_}) v->resize(n_batch_);
}

Context::~Context() = default;

void Context::add_stage(int first_layer, int end_layer, bool gpu, const ContextParams& params) {
    const ModelConfig& c = model_.config();
    const size_t kv = (size_t)c.n_head_kv * c.head_dim;
    const size_t q = (size_t)c.n_head * c.head_dim;
    backends::BackendParams bp;
    bp.n_threads = params.n_threads;
    bp.n_layer = end_layer - first_layer;
    bp.kv_row_elems = (int)kv;
    bp.kv_type = params.kv_type;
    bp.kv_rows = params.kv_rows > 0 ? params.kv_rows : n_ctx_;
    bp.max_batch = n_batch_;
    bp.attention = attention_shape(first_layer);
    bp.weights_owner = model_.id();
    Stage& s = stages_.emplace_back();
    s.backend = make_backend(bp, gpu);
    s.first_layer = first_layer;
    s.end_layer = end_layer;
    backends::Backend& b = *s.backend;
    auto rows = [&](size_t width) -> Cols {
        return {b.alloc_rows(n_batch_, (int)width), 0, (int)width};
    };
    s.x = rows(c.n_embd);
    s.xn = rows(c.n_embd);
    s.qkv = rows(q + 2 * kv);
    s.attn = rows(q);
    s.ffn = rows(2 * (size_t)c.n_ff);
    s.act = rows(c.n_ff);
    if (gpu) upload_weights(s);
}

void Context::upload_weights(Stage& s) {
    const Weights& w = model_.weights();
    backends::Backend& b = *s.backend;
    for (int l = s.first_layer; l < s.end_layer; ++l) {
        const LayerWeights& L = w.layers[l];
        for (const MatrixView* m :
             {&L.wq, &L.wk, &L.wv, &L.wqkv, &L.wo, &L.w_gate, &L.w_up, &L.w_down}) {
            if (m->rows > 0) b.upload(*m);
        }
        for (const std::vector<float>* v : {&L.attn_norm, &L.bq, &L.bk, &L.bv, &L.q_norm, &L.k_norm,
                                            &L.attn_post_norm, &L.ffn_norm, &L.ffn_post_norm}) {
            b.upload(*v);
        }
    }
    if (s.end_layer == model_.config().n_layer) {  // the stage that computes the output
        b.upload(w.output);
        b.upload(w.output_norm);
    }
}

std::vector<std::shared_ptr<const void>> Context::weights_handles() const {
    std::vector<std::shared_ptr<const void>> handles;
    for (const Stage& s : stages_) {
        if (auto h = s.backend->weights_handle()) handles.push_back(std::move(h));
    }
    return handles;
}

KvStats Context::kv_stats() const {
    KvStats total;
    for (const Stage& s : stages_) {
        const KvStats k = s.backend->kv_stats();
        total.bytes += k.bytes;
        total.pages_total = k.pages_total;  // every stage holds the same positions
        total.pages_used = k.pages_used;
    }
    return total;
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

int Context::exact_batch_rows() const {
    int rows = n_batch_;
    for (const Stage& s : stages_) rows = std::min(rows, s.backend->exact_batch_rows());
    return rows;
}

int Context::exact_rows_per_sequence() {
    return kernels::kTiledMinQueries - 1;
}

int Context::truncate(int n) {
    seq_truncate(0, n);
    return n_past();
}

void Context::seq_truncate(int seq, int n) {
    LOKAL_ASSERT(seq >= 0);
    if ((size_t)seq >= n_past_.size()) n_past_.resize((size_t)seq + 1, 0);
    n_past_[seq] = std::clamp(n, 0, n_past_[seq]);
    for (Stage& s : stages_) s.backend->kv_truncate(seq, n_past_[seq]);
}

void Context::seq_copy_prefix(int src, int dst, int n) {
    LOKAL_ASSERT(src >= 0 && dst >= 0);
    const int m = std::max(src, dst);
    if ((size_t)m >= n_past_.size()) n_past_.resize((size_t)m + 1, 0);
    n = std::clamp(n, 0, n_past_[src]);
    for (Stage& s : stages_) s.backend->kv_copy_prefix(src, dst, n);
    n_past_[dst] = n;
}

size_t Context::kv_row_bytes() const {
    const ModelConfig& c = model_.config();
    return kernels::kv_row_bytes(kv_type_, c.n_head_kv * c.head_dim);
}

size_t Context::seq_kv_bytes(int n) const {
    return 2 * (size_t)n * kv_row_bytes() * (size_t)model_.config().n_layer;
}

void Context::seq_export(int seq, int n, uint8_t* dst) {
    LOKAL_ASSERT(n >= 0 && n <= seq_n_past(seq));
    for (Stage& s : stages_) {
        s.backend->kv_read_rows(seq, 0, n, dst);
        dst += 2 * (size_t)n * kv_row_bytes() * (size_t)(s.end_layer - s.first_layer);
    }
}

bool Context::seq_import(int seq, int n, const uint8_t* rows) {
    LOKAL_ASSERT(seq >= 0 && n >= 0 && n <= n_ctx_);
    seq_truncate(seq, 0);
    if ((size_t)seq >= n_past_.size()) n_past_.resize((size_t)seq + 1, 0);
    if (!kv_reserve(seq, 0, n)) return false;
    for (Stage& s : stages_) {
        s.backend->kv_write_rows(seq, 0, n, rows);
        rows += 2 * (size_t)n * kv_row_bytes() * (size_t)(s.end_layer - s.first_layer);
    }
    n_past_[seq] = n;
    return true;
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
    if (!kv_reserve(0, n_past(), n_past() + n)) {
        throw Error("the KV cache is full (" + std::to_string(kv_stats().pages_total) +
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
        if (!kv_reserve(s, n_past_[s], last + 1)) {
            for (int u = 0; u < n; ++u) {
                for (Stage& st : stages_)
                    st.backend->kv_truncate(batch_seq_[u], n_past_[batch_seq_[u]]);
            }
            return false;
        }
    }
    if (logits_.size() < (size_t)rows * n_vocab_) logits_.resize((size_t)rows * n_vocab_);
    forward_batch(n, rows, logits_.data());
    for (int t = 0; t < n; ++t)
        n_past_[batch_seq_[t]] = std::max(n_past_[batch_seq_[t]], batch_pos_[t] + 1);
    return true;
}

bool Context::kv_reserve(int seq, int first_write, int n_rows) {
    for (size_t i = 0; i < stages_.size(); ++i) {
        if (!stages_[i].backend->kv_reserve(seq, first_write, n_rows)) {
            for (size_t j = 0; j < i; ++j) stages_[j].backend->kv_truncate(seq, n_past_[seq]);
            return false;
        }
    }
    return true;
}

void Context::forward_batch(int n, int n_logit_rows, float* logits_out) {
    const backends::Batch batch{{batch_tok_.data(), (size_t)n},
                                {batch_seq_.data(), (size_t)n},
                                {batch_pos_.data(), (size_t)n}};
    // Only the rows whose logits are wanted feed anything past the last layer's cache: the rest
    // of that layer runs on them alone (a 512-token prompt: one row instead of 512). The query
    // rows wait in gate|up's columns, which must be wide enough.
    const ModelConfig& c = model_.config();
    const int last_layer = c.n_layer - 1;
    const bool trim =
        !hidden_sink_ && n_logit_rows < n && stages_.back().ffn.width >= c.n_head * c.head_dim;
    const int n_kept = trim ? n_logit_rows : n;
    for (size_t i = 0; i < stages_.size(); ++i) {
        Stage& s = stages_[i];
        s.backend->set_batch(batch);
        if (i == 0) {
            embed_tokens(s, n);
        } else {  // the residual stream moves on from the stage before
            const Stage& prev = stages_[i - 1];
            handoff_.resize((size_t)n * prev.x.width);
            prev.backend->read_rows(prev.x, n, handoff_.data());
            s.backend->write_rows(s.x, n, handoff_.data());
        }
        for (int l = s.first_layer; l < s.end_layer; ++l) {
            const int n_on = attention_block(s, l, n, l == last_layer ? n_kept : n);
            if (n_on > 0) ffn_block(s, l, n_on);
        }
    }
    if (hidden_sink_) {
        output_hidden(stages_.back(), n);
    } else if (n_kept < n) {
        output_logits(stages_.back(), {kept_rows_.data(), (size_t)n_kept}, logits_out);
    } else {
        output_logits(stages_.back(), {logit_rows_.data(), (size_t)n_logit_rows}, logits_out);
    }
}

void Context::embed_tokens(Stage& s, int n) {
    const ModelConfig& c = model_.config();
    s.backend->get_rows(model_.weights().tok_embd, {batch_tok_.data(), (size_t)n}, s.x);
    if (c.scale_embeddings) s.backend->scale(s.x, n, std::sqrt((float)c.n_embd));
}

backends::AttentionShape Context::attention_shape(int layer) const {
    const ModelConfig& c = model_.config();
    backends::AttentionShape s;
    s.n_head = c.n_head;
    s.n_head_kv = c.n_head_kv;
    s.head_dim = c.head_dim;
    s.scale = c.attn_scale > 0 ? c.attn_scale : 1.0f / std::sqrt((float)c.head_dim);
    s.softcap = c.attn_softcap;
    s.window = c.is_swa(layer) ? c.n_swa : 0;
    return s;
}

// Pre-norm attention with the architecture's options: fused or separate q/k/v, biases (qwen2),
// per-head q/k norms (qwen3, gemma3), a sliding window with its own rope (gemma2/3), soft-capped
// scores (gemma2) and a post-norm (gemma2/3).
int Context::attention_block(Stage& s, int l, int n, int n_keep) {
    const ModelConfig& c = model_.config();
    const LayerWeights& L = model_.weights().layers[l];
    backends::Backend& b = *s.backend;
    const int hd = c.head_dim, Q = c.n_head * hd, KV = c.n_head_kv * hd;
    const Cols q = s.qkv.sub(0, Q), k = s.qkv.sub(Q, KV), v = s.qkv.sub(Q + KV, KV);
    const int kv_layer = l - s.first_layer;  // the stage's cache holds its own layers

    b.rms_norm(s.x, L.attn_norm, s.xn, n, c.norm_eps);
    project_qkv(b, L, s.xn, s.qkv, q, k, v, n);
    if (!L.q_norm.empty()) b.rms_norm_heads(q, L.q_norm, n, hd, c.norm_eps);
    if (!L.k_norm.empty()) b.rms_norm_heads(k, L.k_norm, n, hd, c.norm_eps);
    b.rope(q, k, n, hd, c.is_swa(l) ? rope_swa_ : rope_);
    b.kv_store(kv_layer, k, v, n);
    Cols q_on = q;
    if (n_keep < n) {
        if (n_keep == 0) return 0;
        q_on = keep_logit_rows(s, q, n_keep);
        n = n_keep;
    }
    b.attention(kv_layer, q_on, s.attn, n, attention_shape(l));
    b.matmul(L.wo, s.attn, s.xn, n);
    if (!L.attn_post_norm.empty()) b.rms_norm(s.xn, L.attn_post_norm, s.xn, n, c.norm_eps);
    b.add(s.x, s.xn, n);
    return n;
}

// Rows logit_rows_[0..n_keep) of the residual stream and of q move to rows [0, n_keep) (q into
// gate|up's columns), and the backend's batch becomes theirs, for the attention that follows.
Context::Cols Context::keep_logit_rows(Stage& s, Cols q, int n_keep) {
    backends::Backend& b = *s.backend;
    const std::span<const int32_t> rows{logit_rows_.data(), (size_t)n_keep};
    for (auto* v : {&kept_tok_, &kept_seq_, &kept_pos_, &kept_rows_}) v->resize(n_keep);
    for (int i = 0; i < n_keep; ++i) {
        kept_tok_[i] = batch_tok_[rows[i]];
        kept_seq_[i] = batch_seq_[rows[i]];
        kept_pos_[i] = batch_pos_[rows[i]];
        kept_rows_[i] = i;
    }
    const Cols q_kept = s.ffn.sub(0, q.width);
    b.gather_rows(q, rows, q_kept);
    b.gather_rows(s.x, rows, s.xn);
    b.gather_rows(s.xn, kept_rows_, s.x);
    b.set_batch({kept_tok_, kept_seq_, kept_pos_});
    return q_kept;
}

// Pre-norm gated feed-forward (SwiGLU or GeGLU), gate and up fused or separate, optional
// post-norm.
void Context::ffn_block(Stage& s, int l, int n) {
    const ModelConfig& c = model_.config();
    const LayerWeights& L = model_.weights().layers[l];
    backends::Backend& b = *s.backend;
    const int F = c.n_ff;
    const Cols gate = s.ffn.sub(0, F), up = s.ffn.sub(F, F);

    b.rms_norm(s.x, L.ffn_norm, s.xn, n, c.norm_eps);
    if (L.fused_gate_up()) {
        b.matmul(L.w_up, s.xn, s.ffn, n);
    } else {
        b.matmul(L.w_gate, s.xn, gate, n);
        b.matmul(L.w_up, s.xn, up, n);
    }
    b.glu(c.activation, gate, up, s.act, n);
    b.matmul(L.w_down, s.act, s.xn, n);
    if (!L.ffn_post_norm.empty()) b.rms_norm(s.xn, L.ffn_post_norm, s.xn, n, c.norm_eps);
    b.add(s.x, s.xn, n);
}

// Only the rows whose logits are wanted go through the (large) output matrix.
void Context::output_logits(Stage& s, std::span<const int32_t> rows, float* out) {
    if (rows.empty()) return;
    const int n_rows = (int)rows.size();
    const ModelConfig& c = model_.config();
    const Weights& w = model_.weights();
    backends::Backend& b = *s.backend;
    b.gather_rows(s.x, rows, s.xn);
    b.rms_norm(s.xn, w.output_norm, s.xn, n_rows, c.norm_eps);
    b.logits(w.output, s.xn, n_rows, c.final_softcap, out);
}

void Context::output_hidden(Stage& s, int n) {
    const ModelConfig& c = model_.config();
    s.backend->rms_norm(s.x, model_.weights().output_norm, s.xn, n, c.norm_eps);
    const size_t at = hidden_sink_->size();
    hidden_sink_->resize(at + (size_t)n * c.n_embd);
    s.backend->read_rows(s.xn, n, hidden_sink_->data() + at);
}

}  // namespace lokal::model
