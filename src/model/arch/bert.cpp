// BERT encoders (bge, MiniLM, e5...): learned absolute positions and token types, LayerNorm
// with biases after each residual (post-norm), GELU feed-forward, bidirectional attention, and
// a pooled, L2-normalised sentence embedding. nomic-bert differs in three ways: rotary
// positions (NeoX) instead of learned ones, a fused q/k/v projection, and a SwiGLU feed-forward.
#include "base/error.h"
#include "model/arch/arch.h"

namespace lokal::model::bert {

void read_config(const gguf::File& f, ModelConfig& cfg) {
    const std::string a = cfg.arch + ".";
    auto need = [&](const std::string& key) {
        auto v = f.get_int(a + key);
        if (!v || *v <= 0) throw Error("model file is missing metadata key '" + a + key + "'");
        return (int)*v;
    };
    cfg.name = f.get_string("general.name").value_or("");
    cfg.encoder_only = true;
    cfg.n_embd = need("embedding_length");
    cfg.n_layer = need("block_count");
    cfg.n_head = need("attention.head_count");
    cfg.n_head_kv = cfg.n_head;
    cfg.n_ff = need("feed_forward_length");
    cfg.n_ctx_train = need("context_length");
    if (cfg.n_embd % cfg.n_head != 0) throw Error("embedding size is not a multiple of heads");
    cfg.head_dim = cfg.n_embd / cfg.n_head;
    cfg.norm_eps = (float)f.get_float(a + "attention.layer_norm_epsilon").value_or(1e-12);
    cfg.activation = Activation::GeluTanh;
    const int64_t pooling = f.get_int(a + "pooling_type").value_or(2);
    if (pooling < 0 || pooling > 4) {
        throw Error(
            "unsupported pooling type " + std::to_string(pooling) + " in " + a + "pooling_type",
            ErrorKind::Unsupported);
    }
    cfg.pooling = (Pooling)pooling;
    const gguf::TensorInfo* t = f.find_tensor("token_embd.weight");
    if (!t) throw Error("model file is missing tensor 'token_embd.weight'");
    cfg.n_vocab = (int)t->rows();
    cfg.swa_layers.assign(cfg.n_layer, false);
    if (cfg.arch == "nomic-bert") {
        cfg.rope.style = RopeStyle::NeoX;
        cfg.rope.n_rot = cfg.head_dim;
        cfg.rope.freq_base = (float)f.get_float(a + "rope.freq_base").value_or(1000.0);
        cfg.activation = Activation::SiLU;
    }
}

namespace {

void bind_rank_head(const WeightBinder& b, const ModelConfig& cfg, EncoderWeights& enc) {
    const int64_t E = cfg.n_embd;
    const gguf::TensorInfo* out = b.file().find_tensor("cls.output.weight");
    if (!out) {
        throw Error(
            "the model is a reranker (pooling type 4) but has no classifier: tensor "
            "'cls.output.weight' is missing");
    }
    const int64_t n_out = (int64_t)out->rows();
    if (n_out < 1 || n_out > 1024) throw Error("tensor 'cls.output.weight' has a bad shape");
    if (auto cls = b.optional_matrix("cls.weight", E, E)) {
        enc.cls = *cls;
        enc.cls_b = b.optional_vector("cls.bias", E).value_or(std::vector<float>());
    }
    enc.cls_out = b.matrix("cls.output.weight", n_out, E);
    enc.cls_out_b = b.optional_vector("cls.output.bias", n_out).value_or(std::vector<float>());
}

}  // namespace

void bind_weights(const WeightBinder& b, const ModelConfig& cfg, Weights& w) {
    const int64_t E = cfg.n_embd, F = cfg.n_ff;
    EncoderWeights& enc = w.encoder;
    w.tok_embd = b.matrix("token_embd.weight", cfg.n_vocab, E);
    if (cfg.rope.n_rot == 0) enc.pos_embd = b.matrix("position_embd.weight", cfg.n_ctx_train, E);
    if (auto types = b.file().find_tensor("token_types.weight")) {
        const auto m = b.matrix("token_types.weight", (int64_t)types->rows(), E);
        enc.type0.resize(E);
        kernels::get_row(m, 0, enc.type0.data());
    }
    enc.tok_norm = b.vector("token_embd_norm.weight", E);
    enc.tok_norm_b = b.vector("token_embd_norm.bias", E);
    enc.layers.resize(cfg.n_layer);
    for (int l = 0; l < cfg.n_layer; ++l) {
        EncoderLayerWeights& L = enc.layers[l];
        auto name = [l](const char* s) { return WeightBinder::layer_name(l, s); };
        auto optional = [&](const char* s, int64_t n) {
            return b.optional_vector(name(s), n).value_or(std::vector<float>());
        };
        if (auto qkv = b.optional_matrix(name("attn_qkv.weight"), 3 * E, E)) {
            L.wqkv = *qkv;
        } else {
            L.wq = b.matrix(name("attn_q.weight"), E, E);
            L.wk = b.matrix(name("attn_k.weight"), E, E);
            L.wv = b.matrix(name("attn_v.weight"), E, E);
        }
        L.wo = b.matrix(name("attn_output.weight"), E, E);
        L.bq = optional("attn_q.bias", E);
        L.bk = optional("attn_k.bias", E);
        L.bv = optional("attn_v.bias", E);
        L.bo = optional("attn_output.bias", E);
        L.attn_norm = b.vector(name("attn_output_norm.weight"), E);
        L.attn_norm_b = b.vector(name("attn_output_norm.bias"), E);
        if (auto gate = b.optional_matrix(name("ffn_gate.weight"), F, E)) L.w_gate = *gate;
        L.w_up = b.matrix(name("ffn_up.weight"), F, E);
        L.b_up = optional("ffn_up.bias", F);
        L.w_down = b.matrix(name("ffn_down.weight"), E, F);
        L.b_down = optional("ffn_down.bias", E);
        L.out_norm = b.vector(name("layer_output_norm.weight"), E);
        L.out_norm_b = b.vector(name("layer_output_norm.bias"), E);
    }
    if (cfg.pooling == Pooling::Rank) bind_rank_head(b, cfg, enc);
}

}  // namespace lokal::model::bert
