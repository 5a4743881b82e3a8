// Hyperparameters and tensors shared by the llama-style family.
#include "base/error.h"
#include "model/arch/arch.h"

namespace lokal::model {
namespace {

int64_t require_int(const gguf::File& f, const std::string& key) {
    auto v = f.get_int(key);
    if (!v) throw Error("model file is missing metadata key '" + key + "'");
    if (*v <= 0 || *v > (int64_t(1) << 31)) {
        throw Error("metadata key '" + key + "' has invalid value " + std::to_string(*v));
    }
    return *v;
}

}  // namespace

void read_common_config(const gguf::File& f, ModelConfig& cfg) {
    const std::string a = cfg.arch + ".";
    cfg.name = f.get_string("general.name").value_or("");
    cfg.n_embd = (int)require_int(f, a + "embedding_length");
    cfg.n_layer = (int)require_int(f, a + "block_count");
    cfg.n_head = (int)require_int(f, a + "attention.head_count");
    cfg.n_head_kv = (int)f.get_int(a + "attention.head_count_kv").value_or(cfg.n_head);
    cfg.n_ff = (int)require_int(f, a + "feed_forward_length");
    cfg.n_ctx_train = (int)f.get_int(a + "context_length").value_or(2048);
    cfg.head_dim = (int)f.get_int(a + "attention.key_length").value_or(cfg.n_embd / cfg.n_head);
    if (f.get_int(a + "attention.value_length").value_or(cfg.head_dim) != cfg.head_dim) {
        throw Error("models whose value heads differ in size from key heads are not supported",
                    ErrorKind::Unsupported);
    }
    if (cfg.head_dim <= 0 || cfg.head_dim > 1024) {
        throw Error("attention head size " + std::to_string(cfg.head_dim) + " is not supported",
                    ErrorKind::Unsupported);
    }
    if (cfg.n_head_kv <= 0 || cfg.n_head % cfg.n_head_kv != 0) {
        throw Error("attention.head_count (" + std::to_string(cfg.n_head) +
                    ") is not a multiple of head_count_kv (" + std::to_string(cfg.n_head_kv) + ")");
    }
    cfg.norm_eps = (float)f.get_float(a + "attention.layer_norm_rms_epsilon").value_or(1e-5);

    RopeConfig& r = cfg.rope;
    r.n_rot = (int)f.get_int(a + "rope.dimension_count").value_or(cfg.head_dim);
    if (r.n_rot <= 0 || r.n_rot > cfg.head_dim || r.n_rot % 2 != 0) {
        throw Error("rope.dimension_count " + std::to_string(r.n_rot) +
                    " is invalid for head size " + std::to_string(cfg.head_dim));
    }
    r.freq_base = (float)f.get_float(a + "rope.freq_base").value_or(10000.0);
    const std::string scaling = f.get_string(a + "rope.scaling.type").value_or("none");
    double factor = f.get_float(a + "rope.scaling.factor").value_or(0.0);
    if (auto linear = f.get_float(a + "rope.scale_linear")) factor = *linear;  // older key
    if (scaling == "linear" || (scaling == "none" && factor > 1.0)) {
        r.scaling = RopeScaling::Linear;
    } else if (scaling == "yarn") {
        r.scaling = RopeScaling::YaRN;
        r.yarn_ext_factor = 1.0f;
        r.yarn_attn_factor = (float)f.get_float(a + "rope.scaling.attn_factor").value_or(1.0);
        r.yarn_beta_fast = (float)f.get_float(a + "rope.scaling.yarn_beta_fast").value_or(32.0);
        r.yarn_beta_slow = (float)f.get_float(a + "rope.scaling.yarn_beta_slow").value_or(1.0);
    } else if (scaling != "none") {
        throw Error("unsupported rope scaling type '" + scaling + "'", ErrorKind::Unsupported);
    }
    if (r.scaling != RopeScaling::None && factor > 0.0) r.freq_scale = (float)(1.0 / factor);
    r.n_ctx_orig =
        (int)f.get_int(a + "rope.scaling.original_context_length").value_or(cfg.n_ctx_train);
    cfg.rope_swa = r;
    cfg.swa_layers.assign(cfg.n_layer, false);

    const auto* tokens = f.get_string_array("tokenizer.ggml.tokens");
    cfg.n_vocab = (int)f.get_int(a + "vocab_size").value_or(tokens ? (int64_t)tokens->size() : 0);
    if (const gguf::TensorInfo* t = f.find_tensor("token_embd.weight")) {
        cfg.n_vocab = (int)t->rows();
    }
    if (cfg.n_vocab <= 0) throw Error("cannot tell the vocabulary size of this model");
}

void read_sliding_window(const gguf::File& f, ModelConfig& cfg, int default_pattern) {
    const std::string a = cfg.arch + ".";
    cfg.n_swa = (int)f.get_int(a + "attention.sliding_window").value_or(0);
    if (cfg.n_swa < 0) throw Error("attention.sliding_window must not be negative");
    cfg.swa_layers.assign(cfg.n_layer, false);
    if (cfg.n_swa == 0) return;
    const gguf::Value* pattern = f.find(a + "attention.sliding_window_pattern");
    if (pattern && pattern->type == gguf::ValueType::ARRAY) {
        // One flag per layer: true = sliding window.
        for (int l = 0; l < cfg.n_layer && l < (int)pattern->ints.size(); ++l) {
            cfg.swa_layers[l] = pattern->ints[l] != 0;
        }
        return;
    }
    const int64_t n =
        pattern ? f.get_int(a + "attention.sliding_window_pattern").value() : default_pattern;
    if (n < 0) throw Error("attention.sliding_window_pattern must not be negative");
    // Every n-th layer is global; the n-1 before it use the window (0: every layer does).
    for (int l = 0; l < cfg.n_layer; ++l) cfg.swa_layers[l] = n == 0 || (l % n) < n - 1;
}

std::vector<float> bind_part(const WeightBinder& b, const ModelConfig& cfg, Part part,
                             const std::string& name, int64_t n) {
    switch (part) {
        case Part::Required:
            return b.vector(name, n);
        case Part::Optional:
            return b.optional_vector(name, n).value_or(std::vector<float>());
        case Part::Absent:
            if (b.file().find_tensor(name)) {
                throw Error("tensor '" + name + "' is not part of a " + cfg.arch +
                                " block; the file does not match its architecture",
                            ErrorKind::Unsupported);
            }
            return {};
    }
    return {};
}

void bind_llama_style_weights(const WeightBinder& b, const ModelConfig& cfg, Weights& w) {
    const int64_t E = cfg.n_embd, Q = (int64_t)cfg.n_head * cfg.head_dim,
                  KV = (int64_t)cfg.n_head_kv * cfg.head_dim, F = cfg.n_ff;
    w.tok_embd = b.matrix("token_embd.weight", cfg.n_vocab, E);
    w.output_norm = b.vector("output_norm.weight", E);
    w.output = b.optional_matrix("output.weight", cfg.n_vocab, E).value_or(w.tok_embd);
    w.layers.resize(cfg.n_layer);
    for (int l = 0; l < cfg.n_layer; ++l) {
        LayerWeights& L = w.layers[l];
        auto name = [l](const char* s) { return WeightBinder::layer_name(l, s); };
        auto part_vector = [&](Part part, const char* s, int64_t n) {
            return bind_part(b, cfg, part, name(s), n);
        };
        L.attn_norm = b.vector(name("attn_norm.weight"), E);
        if (auto qkv = b.optional_matrix(name("attn_qkv.weight"), Q + 2 * KV, E)) {
            L.wqkv = *qkv;
        } else {
            L.wq = b.matrix(name("attn_q.weight"), Q, E);
            L.wk = b.matrix(name("attn_k.weight"), KV, E);
            L.wv = b.matrix(name("attn_v.weight"), KV, E);
        }
        L.bq = part_vector(cfg.parts.qkv_bias, "attn_q.bias", Q);
        L.bk = part_vector(cfg.parts.qkv_bias, "attn_k.bias", KV);
        L.bv = part_vector(cfg.parts.qkv_bias, "attn_v.bias", KV);
        L.q_norm = part_vector(cfg.parts.qk_norm, "attn_q_norm.weight", cfg.head_dim);
        L.k_norm = part_vector(cfg.parts.qk_norm, "attn_k_norm.weight", cfg.head_dim);
        L.wo = b.matrix(name("attn_output.weight"), E, Q);
        L.attn_post_norm = part_vector(cfg.parts.post_norms, "post_attention_norm.weight", E);
        L.ffn_norm = b.vector(name("ffn_norm.weight"), E);
        if (auto gate = b.optional_matrix(name("ffn_gate.weight"), F, E)) {
            L.w_gate = *gate;
            L.w_up = b.matrix(name("ffn_up.weight"), F, E);
        } else {
            L.w_up = b.matrix(name("ffn_up.weight"), 2 * F, E);  // gate rows, then up rows
        }
        L.w_down = b.matrix(name("ffn_down.weight"), E, F);
        L.ffn_post_norm = part_vector(cfg.parts.post_norms, "post_ffw_norm.weight", E);
    }
}

}  // namespace lokal::model
