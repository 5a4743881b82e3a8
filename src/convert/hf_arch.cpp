#include "convert/hf_arch.h"

#include <array>
#include <cmath>
#include <fstream>
#include <memory>
#include <string_view>

#include "base/error.h"

using nlohmann::json;

namespace lokal::convert {

namespace {

int64_t need_int(const json& c, const char* key) {
    const auto it = c.find(key);
    if (it == c.end() || !it->is_number_integer() || it->get<int64_t>() <= 0) {
        throw Error(std::string("config.json: missing or bad '") + key + "'");
    }
    return it->get<int64_t>();
}

std::optional<double> opt_num(const json& c, const char* key) {
    const auto it = c.find(key);
    if (it == c.end() || !it->is_number()) return std::nullopt;
    return it->get<double>();
}

// Rope settings wherever config.json states them. Transformers 5 nests them in
// "rope_parameters" (split into full_attention / sliding_attention for gemma3); older configs have
// "rope_scaling" beside top-level rope_theta, partial_rotary_factor,
// original_max_position_embeddings and rope_local_base_freq.
struct RopeConfig {
    json full = json::object();  // the (full-attention) parameters, rope_type always spelt so
    std::optional<double> swa_theta;
};

RopeConfig rope_config(const json& c) {
    json p = c.value("rope_parameters", json());
    if (!p.is_object()) p = c.value("rope_scaling", json());
    RopeConfig r;
    if (!p.is_object()) p = json::object();
    if (p.contains("full_attention") || p.contains("sliding_attention")) {
        if (p.value("full_attention", json()).is_object()) r.full = p["full_attention"];
        if (p.value("sliding_attention", json()).is_object()) {
            r.swa_theta = opt_num(p["sliding_attention"], "rope_theta");
        }
        return r;
    }
    r.full = p;
    r.swa_theta = opt_num(c, "rope_local_base_freq");
    for (const char* k : {"rope_theta", "partial_rotary_factor", "original_max_position_embeddings"}) {
        if (!r.full.contains(k) && c.contains(k) && c[k].is_number()) r.full[k] = c[k];
    }
    if (!r.full.contains("rope_type") && r.full.contains("type")) r.full["rope_type"] = r.full["type"];
    return r;
}

struct NameRow {
    std::string_view hf;
    std::string_view gguf;
};

// model.layers.N.<hf> -> blk.N.<gguf>, for the decoder families.
constexpr std::array<NameRow, 16> kDecoderBlock = {{
    {"self_attn.q_proj", "attn_q"},
    {"self_attn.k_proj", "attn_k"},
    {"self_attn.v_proj", "attn_v"},
    {"self_attn.o_proj", "attn_output"},
    {"self_attn.qkv_proj", "attn_qkv"},
    {"self_attn.q_norm", "attn_q_norm"},
    {"self_attn.k_norm", "attn_k_norm"},
    {"input_layernorm", "attn_norm"},
    {"post_attention_layernorm", "ffn_norm"},
    {"pre_feedforward_layernorm", "ffn_norm"},
    {"post_feedforward_layernorm", "post_ffw_norm"},
    {"mlp.gate_proj", "ffn_gate"},
    {"mlp.up_proj", "ffn_up"},
    {"mlp.down_proj", "ffn_down"},
    {"mlp.gate_up_proj", "ffn_up"},
    {"self_attn.rotary_emb.inv_freq", ""},
}};

constexpr std::array<NameRow, 3> kDecoderTop = {{
    {"model.embed_tokens", "token_embd"},
    {"model.norm", "output_norm"},
    {"lm_head", "output"},
}};

constexpr std::array<NameRow, 8> kBertBlock = {{
    {"attention.self.query", "attn_q"},
    {"attention.self.key", "attn_k"},
    {"attention.self.value", "attn_v"},
    {"attention.output.dense", "attn_output"},
    {"attention.output.LayerNorm", "attn_output_norm"},
    {"intermediate.dense", "ffn_up"},
    {"output.dense", "ffn_down"},
    {"output.LayerNorm", "layer_output_norm"},
}};

constexpr std::array<NameRow, 6> kBertTop = {{
    {"embeddings.word_embeddings", "token_embd"},
    {"embeddings.position_embeddings", "position_embd"},
    {"embeddings.token_type_embeddings", "token_types"},
    {"embeddings.LayerNorm", "token_embd_norm"},
    {"embeddings.position_ids", ""},
    {"pooler.dense", ""},
}};

// Splits "prefix.N.rest.weight" into N, "rest" and "weight"; false when the name does not
// start with prefix and a layer number.
bool split_block(const std::string& name, std::string_view prefix, int& layer, std::string& mid,
                 std::string& suffix) {
    if (name.rfind(prefix, 0) != 0) return false;
    size_t p = prefix.size();
    size_t q = p;
    while (q < name.size() && std::isdigit(static_cast<unsigned char>(name[q]))) ++q;
    if (q == p || q >= name.size() || name[q] != '.') return false;
    layer = std::stoi(name.substr(p, q - p));
    const size_t dot = name.rfind('.');
    if (dot <= q) return false;
    mid = name.substr(q + 1, dot - q - 1);
    suffix = name.substr(dot + 1);
    return true;
}

// "gamma"/"beta" are old names of LayerNorm's weight and bias.
std::string norm_suffix(const std::string& s) {
    if (s == "gamma") return "weight";
    if (s == "beta") return "bias";
    return s;
}

template <size_t N>
std::optional<std::string> lookup(const std::array<NameRow, N>& rows, const std::string& key) {
    for (const NameRow& r : rows) {
        if (r.hf == key) return std::string(r.gguf);
    }
    return std::nullopt;
}

std::optional<MappedName> map_with(const std::string& name, std::string_view block_prefix,
                                   const auto& block_rows, const auto& top_rows) {
    int layer = 0;
    std::string mid, suffix;
    if (split_block(name, block_prefix, layer, mid, suffix)) {
        const auto g = lookup(block_rows, mid);
        if (!g) return std::nullopt;
        if (g->empty()) return MappedName{};
        return MappedName{"blk." + std::to_string(layer) + "." + *g + "." + norm_suffix(suffix)};
    }
    if (auto whole = lookup(top_rows, name); whole && whole->empty()) return MappedName{};
    const size_t dot = name.rfind('.');
    if (dot == std::string::npos) return std::nullopt;
    const auto g = lookup(top_rows, name.substr(0, dot));
    if (!g) return std::nullopt;
    if (g->empty()) return MappedName{};
    return MappedName{*g + "." + norm_suffix(name.substr(dot + 1))};
}

class DecoderMapper : public ArchMapper {
  public:
    enum class Family { Llama, Qwen2, Qwen3, Gemma2, Gemma3, Phi3 };
    DecoderMapper(std::string arch, Family f) : arch_(std::move(arch)), family_(f) {}
    const std::string& arch() const override { return arch_; }

    void write_metadata(const HfFiles& hf, gguf::Writer& w) const override {
        const json& c = hf.config;
        const std::string a = arch_ + ".";
        const int64_t n_embd = need_int(c, "hidden_size");
        const int64_t n_head = need_int(c, "num_attention_heads");
        const int64_t n_head_kv = c.value("num_key_value_heads", n_head);
        const int64_t head_dim = c.contains("head_dim") && c["head_dim"].is_number_integer()
                                     ? c["head_dim"].get<int64_t>()
                                     : n_embd / n_head;
        w.set_u32(a + "context_length", (uint32_t)need_int(c, "max_position_embeddings"));
        w.set_u32(a + "embedding_length", (uint32_t)n_embd);
        w.set_u32(a + "block_count", (uint32_t)need_int(c, "num_hidden_layers"));
        w.set_u32(a + "feed_forward_length", (uint32_t)need_int(c, "intermediate_size"));
        w.set_u32(a + "attention.head_count", (uint32_t)n_head);
        w.set_u32(a + "attention.head_count_kv", (uint32_t)n_head_kv);
        w.set_f32(a + "attention.layer_norm_rms_epsilon",
                  (float)opt_num(c, "rms_norm_eps").value_or(1e-6));
        if (c.contains("head_dim")) {
            w.set_u32(a + "attention.key_length", (uint32_t)head_dim);
            w.set_u32(a + "attention.value_length", (uint32_t)head_dim);
        }
        const RopeConfig rope = rope_config(c);
        write_rope_base(rope, a, w);
        if (family_ == Family::Llama) {
            // llama.cpp's converter states these for llama only; the loaders default the rest.
            w.set_u32(a + "vocab_size", (uint32_t)need_int(c, "vocab_size"));
            w.set_u32(a + "rope.dimension_count", (uint32_t)head_dim);
        }
        if (family_ == Family::Phi3) {
            const double partial = opt_num(rope.full, "partial_rotary_factor").value_or(1.0);
            w.set_u32(a + "rope.dimension_count",
                      (uint32_t)((int64_t)(partial * (double)n_embd) / n_head));
            if (auto v = opt_num(rope.full, "original_max_position_embeddings")) {
                w.set_u32(a + "rope.scaling.original_context_length", (uint32_t)*v);
            }
            // 0 when absent: how Phi-3 (full attention) is told from Phi-4-mini.
            w.set_u32(a + "attention.sliding_window",
                      (uint32_t)opt_num(c, "sliding_window").value_or(0));
        }
        if (family_ == Family::Gemma2) {
            if (auto v = opt_num(c, "attn_logit_softcapping")) {
                w.set_f32(a + "attn_logit_softcapping", (float)*v);
            }
        }
        if (family_ == Family::Gemma2 || family_ == Family::Gemma3) {
            if (auto v = opt_num(c, "final_logit_softcapping")) {
                w.set_f32(a + "final_logit_softcapping", (float)*v);
            }
            if (auto v = opt_num(c, "sliding_window")) {
                w.set_u32(a + "attention.sliding_window", (uint32_t)*v);
            }
        }
        if (family_ == Family::Gemma3) {
            if (auto v = opt_num(c, "sliding_window_pattern")) {
                w.set_u32(a + "attention.sliding_window_pattern", (uint32_t)*v);
            }
        }
        if (family_ != Family::Gemma2 && family_ != Family::Phi3) write_rope_scaling(rope.full, a, w);
    }

    std::optional<MappedName> map(const std::string& name) const override {
        auto m = map_with(name, "model.layers.", kDecoderBlock, kDecoderTop);
        if (!m || m->gguf.empty()) return m;
        const bool gemma = family_ == Family::Gemma2 || family_ == Family::Gemma3;
        if (gemma && m->gguf == "output.weight") return MappedName{};  // tied to the embeddings
        if (gemma && name.ends_with("norm.weight")) m->transform = Transform::AddOne;
        // Gemma's post_attention_layernorm follows attention; pre_feedforward is the ffn norm.
        if (gemma && name.find("post_attention_layernorm") != std::string::npos) {
            m->gguf.replace(m->gguf.find("ffn_norm"), 8, "post_attention_norm");
        }
        if (family_ == Family::Llama && name.ends_with("q_proj.weight")) {
            m->transform = Transform::PermuteQ;
        }
        if (family_ == Family::Llama && name.ends_with("k_proj.weight")) {
            m->transform = Transform::PermuteK;
        }
        return m;
    }

    void write_extra_tensors(const HfFiles& hf, gguf::Writer& w) const override {
        const json& c = hf.config;
        const json rs = rope_config(c).full;
        const std::string type = rs.value("rope_type", "");
        const int64_t n_embd = need_int(c, "hidden_size");
        const int64_t n_head = need_int(c, "num_attention_heads");
        const int64_t head_dim = c.value("head_dim", n_embd / n_head);
        if (type == "llama3") {
            // Per-frequency divisors: long wavelengths slowed by `factor`, short ones kept,
            // a smooth blend between (Llama 3.1's rule).
            const double base = opt_num(rs, "rope_theta").value_or(10000.0);
            const double factor = rs.value("factor", 8.0);
            const double low = rs.value("low_freq_factor", 1.0);
            const double high = rs.value("high_freq_factor", 4.0);
            const double orig = rs.value("original_max_position_embeddings", 8192.0);
            const double low_wavelen = orig / low, high_wavelen = orig / high;
            std::vector<float> f;
            for (int64_t i = 0; i < head_dim; i += 2) {
                const double freq = 1.0 / std::pow(base, (double)i / (double)head_dim);
                const double wavelen = 2.0 * M_PI / freq;
                if (wavelen < high_wavelen) {
                    f.push_back(1.0f);
                } else if (wavelen > low_wavelen) {
                    f.push_back((float)factor);
                } else {
                    const double smooth = (orig / wavelen - low) / (high - low);
                    f.push_back((float)(1.0 / ((1.0 - smooth) / factor + smooth)));
                }
            }
            w.add_tensor_f32("rope_freqs.weight", DType::F32, {(uint64_t)f.size()}, f);
        } else if (type == "longrope" || type == "su") {
            for (const char* which : {"long_factor", "short_factor"}) {
                const json& v = rs.value(which, json::array());
                std::vector<float> f;
                for (const json& x : v) f.push_back(x.get<float>());
                if (f.empty()) continue;
                w.add_tensor_f32(which == std::string("long_factor") ? "rope_factors_long.weight"
                                                                      : "rope_factors_short.weight",
                                 DType::F32, {(uint64_t)f.size()}, f);
            }
        }
    }

    void adjust_vocab(gguf::Writer& w) const override {
        // Gemma's SentencePiece models never add a leading space, whatever their proto says.
        if (family_ == Family::Gemma2 || family_ == Family::Gemma3) {
            w.set_bool("tokenizer.ggml.add_space_prefix", false);
        }
    }

  private:
    // Gemma2's converter never states the base (its loader's 10000 is Gemma2's); Gemma3's
    // defaults to 1e6 for its global layers; Phi3 has no local layers.
    void write_rope_base(const RopeConfig& rope, const std::string& a, gguf::Writer& w) const {
        if (family_ == Family::Gemma2) return;
        std::optional<double> theta = opt_num(rope.full, "rope_theta");
        if (family_ == Family::Gemma3 && !theta) theta = 1e6;
        if (theta) w.set_f32(a + "rope.freq_base", (float)*theta);
        if (rope.swa_theta && family_ != Family::Phi3) {
            w.set_f32(a + "rope.freq_base_swa", (float)*rope.swa_theta);
        }
    }

    void write_rope_scaling(const json& rs, const std::string& a, gguf::Writer& w) const {
        const std::string type = rs.value("rope_type", "");
        if (type == "linear") {
            w.set_string(a + "rope.scaling.type", "linear");
            w.set_f32(a + "rope.scaling.factor", rs.value("factor", 1.0f));
        } else if (type == "yarn") {
            w.set_string(a + "rope.scaling.type", "yarn");
            w.set_f32(a + "rope.scaling.factor", rs.value("factor", 1.0f));
            if (rs.contains("original_max_position_embeddings")) {
                w.set_u32(a + "rope.scaling.original_context_length",
                          rs["original_max_position_embeddings"].get<uint32_t>());
            }
        } else if (type == "longrope" || type == "su") {
            if (rs.contains("original_max_position_embeddings")) {
                w.set_u32(a + "rope.scaling.original_context_length",
                          rs["original_max_position_embeddings"].get<uint32_t>());
            }
        } else if (!type.empty() && type != "llama3" && type != "default") {
            throw Error("config.json: unsupported rope_scaling type '" + type + "'",
                        ErrorKind::Unsupported);
        }
    }

    std::string arch_;
    Family family_;
};

// Sentence-transformers pooling: modules.json names the Pooling module's folder, whose
// config.json says mean or CLS. 1 = mean, 2 = CLS (GGUF's pooling_type numbers).
std::optional<uint32_t> sentence_transformers_pooling(const HfFiles& hf) {
    std::ifstream in(hf.dir / "modules.json");
    if (!in) return std::nullopt;
    json modules;
    try {
        modules = json::parse(in);
    } catch (const json::exception&) {
        throw Error("modules.json is not valid JSON");
    }
    for (const json& m : modules) {
        if (!m.is_object() || m.value("type", "").find("Pooling") == std::string::npos) continue;
        std::ifstream pin(hf.dir / m.value("path", "1_Pooling") / "config.json");
        if (!pin) return std::nullopt;
        json p;
        try {
            p = json::parse(pin);
        } catch (const json::exception&) {
            throw Error("the pooling config.json is not valid JSON");
        }
        if (p.value("pooling_mode_mean_tokens", false)) return 1;
        if (p.value("pooling_mode_cls_token", false)) return 2;
        throw Error("unsupported sentence-transformers pooling (only mean and CLS)",
                    ErrorKind::Unsupported);
    }
    return std::nullopt;
}

class BertMapper : public ArchMapper {
  public:
    const std::string& arch() const override { return arch_; }
    void write_metadata(const HfFiles& hf, gguf::Writer& w) const override {
        const json& c = hf.config;
        const std::string a = arch_ + ".";
        w.set_u32(a + "context_length", (uint32_t)need_int(c, "max_position_embeddings"));
        w.set_u32(a + "embedding_length", (uint32_t)need_int(c, "hidden_size"));
        w.set_u32(a + "feed_forward_length", (uint32_t)need_int(c, "intermediate_size"));
        w.set_u32(a + "block_count", (uint32_t)need_int(c, "num_hidden_layers"));
        w.set_u32(a + "attention.head_count", (uint32_t)need_int(c, "num_attention_heads"));
        w.set_f32(a + "attention.layer_norm_epsilon",
                  (float)opt_num(c, "layer_norm_eps").value_or(1e-12));
        w.set_bool(a + "attention.causal", false);
        if (auto p = sentence_transformers_pooling(hf)) w.set_u32(a + "pooling_type", *p);
    }
    std::optional<MappedName> map(const std::string& hf_name) const override {
        const std::string name = hf_name.rfind("bert.", 0) == 0 ? hf_name.substr(5) : hf_name;
        if (name.rfind("cls.predictions.", 0) == 0) return MappedName{};  // the MLM head
        return map_with(name, "encoder.layer.", kBertBlock, kBertTop);
    }

  private:
    std::string arch_ = "bert";
};

struct ArchRow {
    std::string_view hf;
    std::string_view gguf;
    DecoderMapper::Family family;
};

constexpr std::array<ArchRow, 7> kDecoders = {{
    {"LlamaForCausalLM", "llama", DecoderMapper::Family::Llama},
    {"MistralForCausalLM", "llama", DecoderMapper::Family::Llama},
    {"Qwen2ForCausalLM", "qwen2", DecoderMapper::Family::Qwen2},
    {"Qwen3ForCausalLM", "qwen3", DecoderMapper::Family::Qwen3},
    {"Gemma2ForCausalLM", "gemma2", DecoderMapper::Family::Gemma2},
    {"Gemma3ForCausalLM", "gemma3", DecoderMapper::Family::Gemma3},
    {"Phi3ForCausalLM", "phi3", DecoderMapper::Family::Phi3},
}};

}  // namespace

std::unique_ptr<ArchMapper> mapper_for(const HfFiles& hf) {
    const json& archs = hf.config.value("architectures", json::array());
    if (!archs.is_array() || archs.empty() || !archs[0].is_string()) {
        throw Error("config.json names no architecture (\"architectures\")");
    }
    const std::string name = archs[0].get<std::string>();
    for (const ArchRow& r : kDecoders) {
        if (r.hf == name) {
            return std::make_unique<DecoderMapper>(std::string(r.gguf), r.family);
        }
    }
    if (name == "BertModel" || name == "BertForMaskedLM") return std::make_unique<BertMapper>();
    throw Error("unsupported architecture '" + name +
                    "' (we convert Llama, Mistral, Qwen2, Qwen3, Gemma2, Gemma3, Phi3 and BERT)",
                ErrorKind::Unsupported);
}

std::vector<float> permute_rotary_rows(const std::vector<float>& w, int n_head, int64_t cols) {
    const int64_t rows = (int64_t)w.size() / cols;
    if (n_head <= 0 || rows % n_head != 0 || (rows / n_head) % 2 != 0) {
        throw Error("cannot reorder rotary rows: " + std::to_string(rows) + " rows for " +
                    std::to_string(n_head) + " heads");
    }
    const int64_t hd = rows / n_head, half = hd / 2;
    std::vector<float> out(w.size());
    for (int64_t h = 0; h < n_head; ++h) {
        for (int64_t i = 0; i < half; ++i) {
            for (int64_t j = 0; j < 2; ++j) {
                const int64_t dst = h * hd + i * 2 + j, src = h * hd + j * half + i;
                std::copy_n(w.begin() + src * cols, cols, out.begin() + dst * cols);
            }
        }
    }
    return out;
}

}  // namespace lokal::convert
