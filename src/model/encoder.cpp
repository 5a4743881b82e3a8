#include "model/encoder.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string_view>

#include "base/error.h"
#include "model/compute_device.h"
#include "model/encoder_attention.h"
#include "model/qkv_projection.h"

namespace lokal::model {
namespace {

// Rows of a batched pass: enough short chunks (~100 tokens) for the matmuls to reuse each
// weight row many times, small enough to keep the per-token buffers at a few MB.
constexpr int kMaxBatchRows = 2048;

}  // namespace

Encoder::Encoder(const Model& model, int n_threads) : model_(model) {
    const ModelConfig& c = model.config();
    if (!c.encoder_only) {
        throw Error("'" + c.arch + "' is not an embedding (encoder) model");
    }
    backends::BackendParams bp;
    bp.n_threads = n_threads;
    max_rows_ = std::max(c.n_ctx_train, kMaxBatchRows);
    bp.max_batch = max_rows_;
    bp.attention = {c.n_head, c.n_head, c.head_dim, 1.0f / std::sqrt((float)c.head_dim), 0.0f, 0};
    bp.weights_owner = model.id();
    backend_ = make_backend(bp, true);  // the process's device
    host_attention_ = std::string_view(backend_->name()) == "cpu";
    const EncoderWeights& enc = model.weights().encoder;
    // The per-token buffers start empty and grow to the longest input seen (a nomic-bert's
    // 8192-token context would otherwise hold hundreds of MB for every short sentence).
    auto rows = [&](int n, int64_t width) -> Cols {
        return {backend_->alloc_rows(n, (int)width), 0, (int)width};
    };
    const int N = max_rows_, E = c.n_embd;
    const bool gated = std::any_of(enc.layers.begin(), enc.layers.end(),
                                   [](const EncoderLayerWeights& L) { return L.w_gate.rows > 0; });
    x_ = rows(0, E);
    t_ = rows(0, E);
    qkv_ = rows(0, 3 * E);
    attn_ = rows(0, E);
    up_ = rows(0, c.n_ff);
    gate_ = rows(0, gated ? c.n_ff : 0);
    cls_ = rows(1, E);
    scores_ = rows(1, std::max<int64_t>(1, enc.cls_out.rows));
    positions_.resize(N);
    std::iota(positions_.begin(), positions_.end(), 0);
    seqs_.assign(N, 0);
}

Encoder::~Encoder() = default;

void Encoder::forward(std::span<const int32_t> tokens, std::span<const int> lengths) {
    const ModelConfig& c = model_.config();
    const int n = (int)tokens.size();
    lengths_.assign(lengths.begin(), lengths.end());
    if (lengths_.empty()) lengths_.push_back(n);
    if (n > max_rows_) {
        throw Error("a batch of " + std::to_string(n) + " tokens; the encoder takes at most " +
                        std::to_string(max_rows_),
                    ErrorKind::Internal);
    }
    int row = 0;
    for (size_t s = 0; s < lengths_.size(); ++s) {
        const int len = lengths_[s];
        if (len <= 0) throw Error("nothing to embed: the text has no tokens");
        if (len > c.n_ctx_train) {
            throw Error("the text has " + std::to_string(len) +
                        " tokens; this model takes at most " + std::to_string(c.n_ctx_train));
        }
        for (int t = 0; t < len; ++t, ++row) {
            positions_[row] = t;
            seqs_[row] = (int32_t)s;
        }
    }
    if (row != n) throw Error("sequence lengths do not add up to the tokens", ErrorKind::Internal);
    for (int32_t t : tokens) {
        if (t < 0 || t >= c.n_vocab) throw Error("token id out of range");
    }
    if (n > rows_) {
        rows_ = std::min(max_rows_, std::max(n, 2 * rows_));
        for (const Cols& b : {x_, t_, qkv_, attn_, up_, gate_}) backend_->resize_rows(b.buf, rows_);
    }
    backend_->set_batch({tokens, {seqs_.data(), (size_t)n}, {positions_.data(), (size_t)n}});
    embed_tokens(tokens);
    for (const EncoderLayerWeights& L : model_.weights().encoder.layers) {
        attention_block(L, n);
        ffn_block(L, n);
    }
}

// Token embeddings plus absolute positions (when the model has them) and token type 0, then
// LayerNorm.
void Encoder::embed_tokens(std::span<const int32_t> tokens) {
    const ModelConfig& c = model_.config();
    const EncoderWeights& enc = model_.weights().encoder;
    backends::Backend& b = *backend_;
    const int n = (int)tokens.size();
    b.get_rows(model_.weights().tok_embd, tokens, x_);
    if (enc.pos_embd.rows > 0) {
        b.get_rows(enc.pos_embd, {positions_.data(), (size_t)n}, t_);
        if (!enc.type0.empty()) b.add_bias(t_, enc.type0, n);
        b.add(x_, t_, n);
    } else if (!enc.type0.empty()) {
        b.add_bias(x_, enc.type0, n);
    }
    b.layer_norm(x_, enc.tok_norm, enc.tok_norm_b, x_, n, c.norm_eps);
}

// Post-norm bidirectional attention: fused or separate q/k/v with biases, rotary positions
// (nomic-bert), then x = LayerNorm(x + o + bo).
void Encoder::attention_block(const EncoderLayerWeights& L, int n) {
    const ModelConfig& c = model_.config();
    backends::Backend& b = *backend_;
    const int E = c.n_embd, hd = c.head_dim;
    const Cols q = qkv_.sub(0, E), k = qkv_.sub(E, E), v = qkv_.sub(2 * E, E);
    project_qkv(b, L, x_, qkv_, q, k, v, n);
    if (c.rope.n_rot > 0) b.rope(q, k, n, hd, c.rope);
    if (lengths_.size() == 1) {
        b.attention_all_rows(q, k, v, attn_, n, hd, 1.0f / std::sqrt((float)hd));
    } else {
        attention_per_sequence(n);
    }
    b.matmul(L.wo, attn_, t_, n);
    if (!L.bo.empty()) b.add_bias(t_, L.bo, n);
    b.add(x_, t_, n);
    b.layer_norm(x_, L.attn_norm, L.attn_norm_b, x_, n, c.norm_eps);
}

// Several sequences: attention runs in host memory, each sequence's rows by themselves.
void Encoder::attention_per_sequence(int n) {
    const ModelConfig& c = model_.config();
    host_qkv_.resize((size_t)n * 3 * c.n_embd);
    host_attn_.resize((size_t)n * c.n_embd);
    backend_->read_rows(qkv_, n, host_qkv_.data());
    attend_within_sequences(host_qkv_.data(), (int)c.n_embd, c.head_dim, lengths_,
                            backend_->n_threads(), host_attn_.data());
    backend_->write_rows(attn_, n, host_attn_.data());
}

// Post-norm feed-forward: GELU, or SwiGLU when the layer has a gate (nomic-bert).
void Encoder::ffn_block(const EncoderLayerWeights& L, int n) {
    const ModelConfig& c = model_.config();
    backends::Backend& b = *backend_;
    b.matmul(L.w_up, x_, up_, n);
    if (!L.b_up.empty()) b.add_bias(up_, L.b_up, n);
    if (L.w_gate.rows > 0) {
        b.matmul(L.w_gate, x_, gate_, n);
        b.glu(backends::Activation::SiLU, gate_, up_, up_, n);
    } else {
        b.gelu(up_, n);
    }
    b.matmul(L.w_down, up_, t_, n);
    if (!L.b_down.empty()) b.add_bias(t_, L.b_down, n);
    b.add(x_, t_, n);
    b.layer_norm(x_, L.out_norm, L.out_norm_b, x_, n, c.norm_eps);
}

// score = cls_out * tanh(cls * h_CLS + cls_b) + cls_out_b (cls is absent in some heads).
std::vector<float> Encoder::rank_scores() {
    const EncoderWeights& enc = model_.weights().encoder;
    backends::Backend& b = *backend_;
    Cols h = x_;  // its first row: the CLS state
    if (enc.cls.rows > 0) {
        b.matmul(enc.cls, x_, cls_, 1);
        if (!enc.cls_b.empty()) b.add_bias(cls_, enc.cls_b, 1);
        b.tanh(cls_, 1);
        h = cls_;
    }
    b.matmul(enc.cls_out, h, scores_, 1);
    if (!enc.cls_out_b.empty()) b.add_bias(scores_, enc.cls_out_b, 1);
    std::vector<float> out(enc.cls_out.rows);
    b.read_rows(scores_, 1, out.data());
    return out;
}

std::vector<float> Encoder::hidden_states(std::span<const int32_t> tokens) {
    forward(tokens);
    std::vector<float> x(tokens.size() * (size_t)model_.config().n_embd);
    backend_->read_rows(x_, (int)tokens.size(), x.data());
    return x;
}

// Pooled and L2-normalised: the embedding of one sequence's n rows of final hidden states.
std::vector<float> Encoder::pool(const float* x, int n) const {
    const int E = model_.config().n_embd;
    std::vector<float> out(E, 0.0f);
    switch (model_.config().pooling) {
        case Pooling::Mean:
        case Pooling::None:
            for (int t = 0; t < n; ++t) {
                for (int i = 0; i < E; ++i) out[i] += x[(size_t)t * E + i] / (float)n;
            }
            break;
        case Pooling::Cls:
            std::copy(x, x + E, out.begin());
            break;
        case Pooling::Last:
            std::copy(x + (size_t)(n - 1) * E, x + (size_t)n * E, out.begin());
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

std::vector<float> Encoder::embed(std::span<const int32_t> tokens) {
    if (model_.config().pooling == Pooling::Rank) {
        forward(tokens);
        return rank_scores();
    }
    const std::vector<float> x = hidden_states(tokens);
    return pool(x.data(), (int)tokens.size());
}

std::vector<std::vector<float>> Encoder::embed_batch(
    const std::vector<std::span<const int32_t>>& seqs) {
    std::vector<std::vector<float>> out;
    out.reserve(seqs.size());
    if (seqs.empty()) return out;
    if (model_.config().pooling == Pooling::Rank || !host_attention_ || seqs.size() == 1) {
        for (std::span<const int32_t> s : seqs) out.push_back(embed(s));
        return out;
    }
    std::vector<int32_t> tokens;
    std::vector<int> lengths;
    for (std::span<const int32_t> s : seqs) {
        tokens.insert(tokens.end(), s.begin(), s.end());
        lengths.push_back((int)s.size());
    }
    forward(tokens, lengths);
    const int E = model_.config().n_embd;
    std::vector<float> x(tokens.size() * (size_t)E);
    backend_->read_rows(x_, (int)tokens.size(), x.data());
    size_t row = 0;
    for (int len : lengths) {
        out.push_back(pool(x.data() + row * E, len));
        row += (size_t)len;
    }
    return out;
}

}  // namespace lokal::model
