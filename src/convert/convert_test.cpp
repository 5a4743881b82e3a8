// Tiny Hugging Face model folders (random weights, config.json, a tokenizer) converted to GGUF and
// run: each architecture's logits equal those of the same weights written directly as a GGUF
// under the names and layout our loader expects (stated here independently of the converter).
#include "convert/hf_convert.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>

#include "base/error.h"
#include "convert/hf_arch.h"
#include "gguf/gguf_file.h"
#include "model/context.h"
#include "model/encoder.h"
#include "model/model.h"
#include "safetensors/safetensors_writer.h"
#include "tokenizer/tokenizer.h"

namespace lokal::convert {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using safetensors::float_tensor;
using safetensors::TensorData;

// GPT-2's printable stand-in for each byte.
std::string byte_char(int b) {
    int cp = b;
    const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
    if (!printable) {
        int n = 0;
        for (int x = 0; x < b; ++x) {
            if (!((x >= 33 && x <= 126) || (x >= 161 && x <= 172) || x >= 174)) ++n;
        }
        cp = 256 + n;
    }
    std::string s;
    if (cp < 0x80) {
        s.push_back((char)cp);
    } else {
        s.push_back((char)(0xC0 | (cp >> 6)));
        s.push_back((char)(0x80 | (cp & 0x3F)));
    }
    return s;
}

constexpr int kBpeVocab = 264;  // 256 bytes, 5 merges, <|endoftext|>, 2 ids left unfilled

json byte_level_tokenizer(const json& pre_tokenizer) {
    json vocab = json::object();
    for (int b = 0; b < 256; ++b) vocab[byte_char(b)] = b;
    const std::vector<std::pair<std::string, std::string>> merges = {
        {"h", "e"}, {"l", "l"}, {"he", "ll"}, {"hell", "o"}, {"\xC4\xA0", "w"}};
    json m = json::array();
    int id = 256;
    for (const auto& [a, b] : merges) {
        vocab[a + b] = id++;
        m.push_back(a + " " + b);
    }
    return {{"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", m}}},
            {"pre_tokenizer", pre_tokenizer},
            {"added_tokens", json::array({{{"id", 261}, {"content", "<|endoftext|>"},
                                           {"special", true}}})}};
}

json wordpiece_tokenizer() {
    json vocab = json::object();
    const std::vector<std::string> words = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
                                            "hello", "world", "##s",   "the",   "cat"};
    for (size_t i = 0; i < words.size(); ++i) vocab[words[i]] = i;
    json added = json::array();
    for (int i = 0; i < 5; ++i) {
        added.push_back({{"id", i}, {"content", words[i]}, {"special", true}});
    }
    return {{"model", {{"type", "WordPiece"}, {"vocab", vocab}, {"unk_token", "[UNK]"}}},
            {"added_tokens", added}};
}

class TempDir {
  public:
    explicit TempDir(const std::string& tag) {
        path_ = fs::temp_directory_path() / ("lokal-convert-" + std::to_string(::getpid()) + "-" +
                                             tag + "-" + std::to_string(counter_++));
        fs::remove_all(path_);
        fs::create_directories(path_);
    }
    ~TempDir() { fs::remove_all(path_); }
    const fs::path& path() const { return path_; }
    void write(const std::string& name, const json& j) const { std::ofstream(path_ / name) << j; }

  private:
    static inline int counter_ = 0;
    fs::path path_;
};

// Random weights, each tensor given twice: under its Hugging Face name (with HF's values) and
// under its GGUF name (with the values the GGUF must hold).
struct TwoWay {
    std::vector<TensorData> hf;
    gguf::Writer direct;
    std::mt19937 rng{42};

    std::vector<float> random(size_t n, float scale, float offset = 0.0f) {
        std::uniform_real_distribution<float> d(-scale, scale);
        std::vector<float> v(n);
        for (float& x : v) x = offset + d(rng);
        return v;
    }
    // shape: outermost first (HF); the GGUF gets it innermost first.
    void add(const std::string& hf_name, const std::string& gguf_name, std::vector<uint64_t> shape,
             float scale = 0.1f, float offset = 0.0f, float gguf_add = 0.0f) {
        size_t n = 1;
        for (uint64_t d : shape) n *= d;
        std::vector<float> v = random(n, scale, offset);
        hf.push_back(float_tensor(hf_name, shape, v));
        if (gguf_name.empty()) return;
        for (float& x : v) x += gguf_add;
        direct.add_tensor_f32(gguf_name, DType::F32,
                              std::vector<uint64_t>(shape.rbegin(), shape.rend()), v);
    }
};

struct Family {
    const char* hf_arch;
    const char* gguf_arch;
    bool qkv_bias = false;
    bool qk_norm = false;
    bool gemma = false;
    bool fused = false;  // phi3's qkv_proj and gate_up_proj
};

constexpr int64_t E = 64, F = 128, L = 2, NH = 4, NKV = 2, HD = 16, V = kBpeVocab;

json decoder_config(const Family& f) {
    json c = {{"architectures", {f.hf_arch}},
              {"hidden_size", E},
              {"intermediate_size", F},
              {"num_hidden_layers", L},
              {"num_attention_heads", NH},
              {"num_key_value_heads", NKV},
              {"head_dim", HD},
              {"max_position_embeddings", 256},
              {"rope_theta", 10000.0},
              {"rms_norm_eps", 1e-5},
              {"vocab_size", V}};
    if (std::string(f.gguf_arch) == "gemma2") {
        c["attn_logit_softcapping"] = 50.0;
        c["final_logit_softcapping"] = 30.0;
        c["sliding_window"] = 128;
    }
    if (std::string(f.gguf_arch) == "gemma3") c["sliding_window"] = 128;
    return c;
}

// The GGUF metadata our loader reads, written by hand for the direct file.
void direct_metadata(gguf::Writer& w, const std::string& arch, const Family& f) {
    w.set_string("general.architecture", arch);
    const std::string a = arch + ".";
    w.set_u32(a + "context_length", 256);
    w.set_u32(a + "embedding_length", E);
    w.set_u32(a + "block_count", L);
    w.set_u32(a + "feed_forward_length", F);
    w.set_u32(a + "attention.head_count", NH);
    w.set_u32(a + "attention.head_count_kv", NKV);
    w.set_u32(a + "attention.key_length", HD);
    w.set_u32(a + "attention.value_length", HD);
    w.set_u32(a + "rope.dimension_count", HD);
    w.set_f32(a + "rope.freq_base", 10000.0f);
    w.set_f32(a + "attention.layer_norm_rms_epsilon", 1e-5f);
    if (std::string(f.gguf_arch) == "gemma2") {
        w.set_f32(a + "attn_logit_softcapping", 50.0f);
        w.set_f32(a + "final_logit_softcapping", 30.0f);
        w.set_u32(a + "attention.sliding_window", 128);
    }
    if (std::string(f.gguf_arch) == "gemma3") w.set_u32(a + "attention.sliding_window", 128);
}

// Writes the HF folder into `dir` and returns the direct GGUF (without a vocabulary).
// as_qwen2: the direct file is a qwen2 model with zero biases (llama's check, below).
gguf::Writer make_decoder(const fs::path& dir, const Family& f, bool as_qwen2 = false) {
    TwoWay t;
    const float norm_offset = f.gemma ? 0.0f : 1.0f;  // gemma stores norm weights minus one
    const float norm_add = f.gemma ? 1.0f : 0.0f;
    const uint64_t Q = NH * HD, KV = NKV * HD;
    t.add("model.embed_tokens.weight", "token_embd.weight", {V, E}, 0.5f);
    for (int l = 0; l < L; ++l) {
        const std::string h = "model.layers." + std::to_string(l) + ".";
        const std::string g = "blk." + std::to_string(l) + ".";
        t.add(h + "input_layernorm.weight", g + "attn_norm.weight", {E}, 0.1f, norm_offset,
              norm_add);
        if (f.fused) {
            t.add(h + "self_attn.qkv_proj.weight", g + "attn_qkv.weight", {Q + 2 * KV, E});
        } else {
            t.add(h + "self_attn.q_proj.weight", g + "attn_q.weight", {Q, E});
            t.add(h + "self_attn.k_proj.weight", g + "attn_k.weight", {KV, E});
            t.add(h + "self_attn.v_proj.weight", g + "attn_v.weight", {KV, E});
        }
        if (f.qkv_bias) {
            t.add(h + "self_attn.q_proj.bias", g + "attn_q.bias", {Q});
            t.add(h + "self_attn.k_proj.bias", g + "attn_k.bias", {KV});
            t.add(h + "self_attn.v_proj.bias", g + "attn_v.bias", {KV});
        }
        if (as_qwen2) {
            for (auto [n, s] : {std::pair{"attn_q.bias", Q}, {"attn_k.bias", KV}, {"attn_v.bias", KV}}) {
                std::vector<float> zero(s, 0.0f);
                t.direct.add_tensor_f32(g + n, DType::F32, {s}, zero);
            }
        }
        if (f.qk_norm) {
            t.add(h + "self_attn.q_norm.weight", g + "attn_q_norm.weight", {HD}, 0.1f,
                  norm_offset, norm_add);
            t.add(h + "self_attn.k_norm.weight", g + "attn_k_norm.weight", {HD}, 0.1f,
                  norm_offset, norm_add);
        }
        t.add(h + "self_attn.o_proj.weight", g + "attn_output.weight", {E, Q});
        if (f.gemma) {
            t.add(h + "post_attention_layernorm.weight", g + "post_attention_norm.weight", {E},
                  0.1f, 0.0f, 1.0f);
            t.add(h + "pre_feedforward_layernorm.weight", g + "ffn_norm.weight", {E}, 0.1f, 0.0f,
                  1.0f);
            t.add(h + "post_feedforward_layernorm.weight", g + "post_ffw_norm.weight", {E}, 0.1f,
                  0.0f, 1.0f);
        } else {
            t.add(h + "post_attention_layernorm.weight", g + "ffn_norm.weight", {E}, 0.1f, 1.0f);
        }
        if (f.fused) {
            t.add(h + "mlp.gate_up_proj.weight", g + "ffn_up.weight", {2 * F, E});
        } else {
            t.add(h + "mlp.gate_proj.weight", g + "ffn_gate.weight", {F, E});
            t.add(h + "mlp.up_proj.weight", g + "ffn_up.weight", {F, E});
        }
        t.add(h + "mlp.down_proj.weight", g + "ffn_down.weight", {E, F});
    }
    t.add("model.norm.weight", "output_norm.weight", {E}, 0.1f, norm_offset, norm_add);
    if (!f.gemma) t.add("lm_head.weight", "output.weight", {V, E}, 0.3f);
    safetensors::write_safetensors((dir / "model.safetensors").string(), t.hf);
    std::ofstream(dir / "config.json") << decoder_config(f);
    std::ofstream(dir / "tokenizer.json")
        << byte_level_tokenizer({{"type", "ByteLevel"}, {"use_regex", true}});
    std::ofstream(dir / "tokenizer_config.json")
        << json{{"eos_token", "<|endoftext|>"}, {"chat_template", "{{ messages }}"}};
    gguf::Writer direct;
    direct_metadata(direct, as_qwen2 ? "qwen2" : f.gguf_arch, f);
    for (const auto& [k, v] : t.direct.metadata()) direct.set_value(k, v);
    // Tensors come over through a file round trip (the Writer has no tensor accessor).
    const auto bytes = t.direct.to_bytes();
    auto parsed = gguf::File::parse(bytes.data(), bytes.size());
    for (const auto& ti : parsed->tensors()) {
        direct.add_tensor(ti.name, ti.type, ti.dims, ti.data, ti.n_bytes);
    }
    return direct;
}

// Copies the converted file's vocabulary into the direct file and writes it.
void finish_direct(gguf::Writer& direct, const std::string& converted, const std::string& out) {
    auto f = gguf::File::open(converted);
    for (const auto& [key, value] : f->metadata()) {
        if (key.rfind("tokenizer.", 0) == 0) direct.set_value(key, value);
    }
    direct.write_file(out);
}

std::vector<float> last_logits(const std::string& path, const std::vector<int32_t>& tokens) {
    auto m = model::Model::load(path);
    model::ContextParams p;
    p.n_ctx = 64;
    p.n_threads = 2;
    p.gpu_layers = 0;
    model::Context ctx(*m, p);
    ctx.eval(tokens);
    return {ctx.logits(), ctx.logits() + ctx.n_vocab()};
}

void expect_close(const std::vector<float>& a, const std::vector<float>& b, float tol) {
    ASSERT_EQ(a.size(), b.size());
    float max_diff = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        ASSERT_TRUE(std::isfinite(a[i]));
        max_diff = std::max(max_diff, std::abs(a[i] - b[i]));
    }
    EXPECT_LE(max_diff, tol);
}

const std::vector<int32_t> kTokens = {104, 101, 108, 259, 12, 260, 7, 33};

class ConvertArch : public ::testing::TestWithParam<Family> {};

// Same weights, same arithmetic: the only differences are float summation orders (none).
TEST_P(ConvertArch, LogitsEqualTheDirectGguf) {
    const Family f = GetParam();
    TempDir dir(f.gguf_arch);
    gguf::Writer direct = make_decoder(dir.path(), f);
    const std::string converted = (dir.path() / "converted.gguf").string();
    ConvertOptions o;
    o.outtype = DType::F32;
    convert_hf_dir(dir.path(), converted, o);
    const std::string direct_path = (dir.path() / "direct.gguf").string();
    finish_direct(direct, converted, direct_path);
    expect_close(last_logits(converted, kTokens), last_logits(direct_path, kTokens), 1e-5f);
    auto g = gguf::File::open(converted);
    EXPECT_EQ(g->get_string("general.architecture").value_or(""), f.gguf_arch);
    EXPECT_EQ(g->get_string("tokenizer.chat_template").value_or(""), "{{ messages }}");
    EXPECT_EQ(g->get_int("tokenizer.ggml.eos_token_id").value_or(-1), 261);
}

INSTANTIATE_TEST_SUITE_P(
    Families, ConvertArch,
    ::testing::Values(Family{"Qwen2ForCausalLM", "qwen2", true},
                      Family{"Qwen3ForCausalLM", "qwen3", false, true},
                      Family{"Gemma2ForCausalLM", "gemma2", false, false, true},
                      Family{"Gemma3ForCausalLM", "gemma3", false, true, true},
                      Family{"Phi3ForCausalLM", "phi3", false, false, false, true}),
    [](const auto& p) { return std::string(p.param.hf_arch); });

// Llama's q/k rows are reordered for GGML's rotary layout: the converted llama model (normal
// rotary on reordered rows) must give the logits of the HF weights as they are under NeoX
// rotary, which is what a qwen2 model with zero biases computes.
class ConvertLlama : public ::testing::TestWithParam<const char*> {};

TEST_P(ConvertLlama, RotaryReorderMatchesNeoxOnTheOriginalRows) {
    const Family f{GetParam(), "llama"};
    TempDir dir("llama");
    gguf::Writer direct = make_decoder(dir.path(), f, /*as_qwen2=*/true);
    const std::string converted = (dir.path() / "converted.gguf").string();
    ConvertOptions o;
    o.outtype = DType::F32;
    convert_hf_dir(dir.path(), converted, o);
    const std::string direct_path = (dir.path() / "direct.gguf").string();
    finish_direct(direct, converted, direct_path);
    // Summation order over head dimensions differs between the two rotary layouts.
    expect_close(last_logits(converted, kTokens), last_logits(direct_path, kTokens), 1e-4f);
}

INSTANTIATE_TEST_SUITE_P(Families, ConvertLlama,
                         ::testing::Values("LlamaForCausalLM", "MistralForCausalLM"),
                         [](const auto& p) { return std::string(p.param); });

TEST(Convert, PermuteRotaryRowsInterleavesHalves) {
    // One head of 4 rows (2 pairs), 1 column: HF [a0 a1 b0 b1] -> GGML [a0 b0 a1 b1].
    EXPECT_EQ(permute_rotary_rows({0, 1, 2, 3}, 1, 1), (std::vector<float>{0, 2, 1, 3}));
    EXPECT_THROW(permute_rotary_rows({0, 1, 2}, 1, 1), Error);
}

TEST(Convert, ByteLevelBpeVocabularyTokenizes) {
    TempDir dir("bpe");
    make_decoder(dir.path(), {"Qwen2ForCausalLM", "qwen2", true});
    const std::string out = (dir.path() / "m.gguf").string();
    convert_hf_dir(dir.path(), out, {});
    auto g = gguf::File::open(out);
    EXPECT_EQ(g->get_string("tokenizer.ggml.model").value_or(""), "gpt2");
    EXPECT_EQ(g->get_string("tokenizer.ggml.pre").value_or(""), "gpt-2");
    const auto* tokens = g->get_string_array("tokenizer.ggml.tokens");
    ASSERT_NE(tokens, nullptr);
    ASSERT_EQ(tokens->size(), (size_t)kBpeVocab);
    EXPECT_EQ((*tokens)[263], "[PAD263]");  // ids the tokenizer leaves empty
    auto tok = tokenizer::Tokenizer::from_gguf(*g);
    const auto ids = tok->encode("hello world", false, false);
    ASSERT_GE(ids.size(), 2u);
    EXPECT_EQ(ids[0], 259);  // "hello" through four merges
    EXPECT_EQ(ids[1], 260);  // "Ġw"
    EXPECT_EQ(tok->decode(ids), "hello world");
    EXPECT_EQ(tok->encode("<|endoftext|>", false, true), (std::vector<int32_t>{261}));
}

TEST(Convert, PreTokenizerFromSplitRegex) {
    const std::string llama3 =
        "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
        "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    json split = {{"type", "Split"}, {"pattern", {{"Regex", llama3}}}};
    json byte_level = {{"type", "ByteLevel"}, {"use_regex", false}};
    json seq = {{"type", "Sequence"}, {"pretokenizers", json::array({split, byte_level})}};
    EXPECT_EQ(detect_bpe_pre(byte_level_tokenizer(seq)), "llama-bpe");
    const json odd = {{"type", "Split"}, {"pattern", {{"Regex", "\\d"}}}};
    EXPECT_THROW(detect_bpe_pre(byte_level_tokenizer(odd)), Error);
}

void make_bert(const fs::path& dir, gguf::Writer* direct) {
    TwoWay t;
    const int64_t BV = 10, P = 32;
    t.add("embeddings.word_embeddings.weight", "token_embd.weight", {BV, E}, 0.5f);
    t.add("embeddings.position_embeddings.weight", "position_embd.weight", {P, E});
    t.add("embeddings.token_type_embeddings.weight", "token_types.weight", {2, E});
    t.add("embeddings.LayerNorm.weight", "token_embd_norm.weight", {E}, 0.1f, 1.0f);
    t.add("embeddings.LayerNorm.bias", "token_embd_norm.bias", {E});
    t.add("embeddings.position_ids", "", {1, P});  // a buffer, not a weight: dropped
    for (int l = 0; l < L; ++l) {
        const std::string h = "encoder.layer." + std::to_string(l) + ".";
        const std::string g = "blk." + std::to_string(l) + ".";
        for (auto [hn, gn] : {std::pair{"attention.self.query", "attn_q"},
                              {"attention.self.key", "attn_k"},
                              {"attention.self.value", "attn_v"},
                              {"attention.output.dense", "attn_output"}}) {
            t.add(h + hn + ".weight", g + gn + ".weight", {E, E});
            t.add(h + hn + ".bias", g + gn + ".bias", {E});
        }
        t.add(h + "attention.output.LayerNorm.weight", g + "attn_output_norm.weight", {E}, 0.1f,
              1.0f);
        t.add(h + "attention.output.LayerNorm.bias", g + "attn_output_norm.bias", {E});
        t.add(h + "intermediate.dense.weight", g + "ffn_up.weight", {F, E});
        t.add(h + "intermediate.dense.bias", g + "ffn_up.bias", {F});
        t.add(h + "output.dense.weight", g + "ffn_down.weight", {E, F});
        t.add(h + "output.dense.bias", g + "ffn_down.bias", {E});
        t.add(h + "output.LayerNorm.weight", g + "layer_output_norm.weight", {E}, 0.1f, 1.0f);
        t.add(h + "output.LayerNorm.bias", g + "layer_output_norm.bias", {E});
    }
    t.add("pooler.dense.weight", "", {E, E});
    safetensors::write_safetensors((dir / "model.safetensors").string(), t.hf);
    std::ofstream(dir / "config.json")
        << json{{"architectures", {"BertModel"}}, {"hidden_size", E},
                {"intermediate_size", F},         {"num_hidden_layers", L},
                {"num_attention_heads", NH},      {"max_position_embeddings", P},
                {"layer_norm_eps", 1e-12},        {"type_vocab_size", 2}};
    std::ofstream(dir / "tokenizer.json") << wordpiece_tokenizer();
    std::ofstream(dir / "tokenizer_config.json")
        << json{{"cls_token", "[CLS]"}, {"sep_token", "[SEP]"}, {"unk_token", "[UNK]"},
                {"pad_token", "[PAD]"}, {"mask_token", "[MASK]"}};
    std::ofstream(dir / "modules.json")
        << json::array({{{"idx", 1}, {"path", "1_Pooling"}, {"type", "sentence_transformers.models.Pooling"}}});
    fs::create_directories(dir / "1_Pooling");
    std::ofstream(dir / "1_Pooling" / "config.json")
        << json{{"pooling_mode_mean_tokens", true}, {"pooling_mode_cls_token", false}};
    if (!direct) return;
    direct->set_string("general.architecture", "bert");
    direct->set_u32("bert.context_length", P);
    direct->set_u32("bert.embedding_length", E);
    direct->set_u32("bert.feed_forward_length", F);
    direct->set_u32("bert.block_count", L);
    direct->set_u32("bert.attention.head_count", NH);
    direct->set_f32("bert.attention.layer_norm_epsilon", 1e-12f);
    direct->set_u32("bert.pooling_type", 1);
    direct->set_bool("bert.attention.causal", false);
    const auto bytes = t.direct.to_bytes();
    auto parsed = gguf::File::parse(bytes.data(), bytes.size());
    for (const auto& ti : parsed->tensors()) {
        direct->add_tensor(ti.name, ti.type, ti.dims, ti.data, ti.n_bytes);
    }
}

TEST(Convert, BertWordPieceAndEmbeddings) {
    TempDir dir("bert");
    gguf::Writer direct;
    make_bert(dir.path(), &direct);
    const std::string converted = (dir.path() / "converted.gguf").string();
    ConvertOptions o;
    o.outtype = DType::F32;
    convert_hf_dir(dir.path(), converted, o);
    auto g = gguf::File::open(converted);
    EXPECT_EQ(g->get_string("tokenizer.ggml.model").value_or(""), "bert");
    EXPECT_EQ(g->get_int("bert.pooling_type").value_or(-1), 1);
    EXPECT_EQ(g->get_int("tokenizer.ggml.bos_token_id").value_or(-1), 2);  // [CLS]
    EXPECT_EQ(g->get_int("tokenizer.ggml.eos_token_id").value_or(-1), 3);  // [SEP]
    EXPECT_EQ(g->get_int("tokenizer.ggml.seperator_token_id").value_or(-1), 3);
    const auto* tokens = g->get_string_array("tokenizer.ggml.tokens");
    ASSERT_NE(tokens, nullptr);
    EXPECT_EQ((*tokens)[2], "[CLS]");               // control tokens keep their text
    EXPECT_EQ((*tokens)[5], "\xE2\x96\x81hello");  // a word start gains U+2581
    EXPECT_EQ((*tokens)[7], "s");                   // "##s" loses its marker
    EXPECT_EQ(g->find_tensor("pooler.dense.weight"), nullptr);
    const std::string direct_path = (dir.path() / "direct.gguf").string();
    finish_direct(direct, converted, direct_path);
    auto a = model::Model::load(converted);
    auto b = model::Model::load(direct_path);
    const auto ids = a->tokenizer().encode("hello worlds the cat", true, false);
    EXPECT_EQ(ids, (std::vector<int32_t>{2, 5, 6, 7, 8, 9, 3}));
    model::Encoder ea(*a, 2), eb(*b, 2);
    expect_close(ea.embed(ids), eb.embed(ids), 1e-6f);
}

TEST(Convert, OutputTypes) {
    TempDir dir("types");
    make_decoder(dir.path(), {"Qwen2ForCausalLM", "qwen2", true});
    for (const char* name : {"f16", "bf16", "q8_0"}) {
        ConvertOptions o;
        o.outtype = parse_outtype(name);
        const std::string out = (dir.path() / (std::string(name) + ".gguf")).string();
        convert_hf_dir(dir.path(), out, o);
        auto g = gguf::File::open(out);
        EXPECT_EQ(g->find_tensor("blk.0.attn_q.weight")->type, o.outtype) << name;
        EXPECT_EQ(g->find_tensor("blk.0.attn_q.bias")->type, DType::F32) << name;
        EXPECT_EQ(g->find_tensor("blk.0.attn_norm.weight")->type, DType::F32) << name;
        // Loads and runs.
        EXPECT_EQ(last_logits(out, kTokens).size(), (size_t)kBpeVocab);
    }
    EXPECT_THROW(parse_outtype("q4_0"), Error);
}

std::string convert_error(const fs::path& dir) {
    try {
        build_gguf(dir, {});
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

TEST(Convert, HostileFoldersAreOneClearErrorEach) {
    EXPECT_NE(convert_error("/nonexistent/lokal-model").find("no such model folder"),
              std::string::npos);
    TempDir dir("hostile");
    EXPECT_NE(convert_error(dir.path()).find("config.json"), std::string::npos);
    make_decoder(dir.path(), {"Qwen2ForCausalLM", "qwen2", true});
    // Unknown architecture.
    json c = decoder_config({"Qwen2ForCausalLM", "qwen2", true});
    c["architectures"] = {"MambaForCausalLM"};
    dir.write("config.json", c);
    EXPECT_NE(convert_error(dir.path()).find("unsupported architecture 'MambaForCausalLM'"),
              std::string::npos);
    // A shape that disagrees with config.json.
    c = decoder_config({"Qwen2ForCausalLM", "qwen2", true});
    c["hidden_size"] = 96;
    dir.write("config.json", c);
    EXPECT_NE(convert_error(dir.path()).find("does not fit hidden_size 96"), std::string::npos);
    dir.write("config.json", decoder_config({"Qwen2ForCausalLM", "qwen2", true}));
    // Truncated weights.
    fs::resize_file(dir.path() / "model.safetensors", 100);
    EXPECT_NE(convert_error(dir.path()).find("past the end of the file"), std::string::npos);
    fs::remove(dir.path() / "model.safetensors");
    EXPECT_NE(convert_error(dir.path()).find("no .safetensors weights"), std::string::npos);
    // A tensor the architecture does not have.
    const std::vector<float> v = {1};
    safetensors::write_safetensors((dir.path() / "model.safetensors").string(),
                                   {float_tensor("model.mystery.weight", {1}, v)});
    EXPECT_NE(convert_error(dir.path()).find("'model.mystery.weight' is not part of a qwen2"),
              std::string::npos);
}

TEST(Convert, NothingIsWrittenOnError) {
    TempDir dir("nowrite");
    make_decoder(dir.path(), {"Qwen2ForCausalLM", "qwen2", true});
    fs::remove(dir.path() / "tokenizer.json");
    const fs::path out = dir.path() / "out.gguf";
    EXPECT_THROW(convert_hf_dir(dir.path(), out.string(), {}), Error);
    EXPECT_FALSE(fs::exists(out));
}

// --- Metadata as llama.cpp's converter states it (scripts/compare-hf-convert.py compares the
// two converters on tiny transformers models; these pin what that comparison found).

// A decoder folder whose config.json `edit` rewrites, converted in memory.
gguf::Writer convert_edited(const Family& f, const std::function<void(json&)>& edit) {
    TempDir dir(f.gguf_arch);
    make_decoder(dir.path(), f);
    json c = decoder_config(f);
    edit(c);
    dir.write("config.json", c);
    return build_gguf(dir.path(), {});
}

std::optional<double> float_key(const gguf::Writer& w, const std::string& key) {
    const gguf::Value* v = w.find(key);
    return v ? std::optional<double>(v->f) : std::nullopt;
}

std::optional<int64_t> int_key(const gguf::Writer& w, const std::string& key) {
    const gguf::Value* v = w.find(key);
    return v ? std::optional<int64_t>(v->i) : std::nullopt;
}

const Family kLlama{"LlamaForCausalLM", "llama"};
const Family kQwen2{"Qwen2ForCausalLM", "qwen2", true};
const Family kGemma2{"Gemma2ForCausalLM", "gemma2", false, false, true};
const Family kGemma3{"Gemma3ForCausalLM", "gemma3", false, true, true};
const Family kPhi3{"Phi3ForCausalLM", "phi3", false, false, false, true};

// Transformers 5 writes rope_theta only inside rope_parameters; a lost base would run a 1e6 model
// at the loader's default of 10000.
TEST(ConvertMetadata, RopeBaseFromTransformers5RopeParameters) {
    const auto v5 = [](json& c) {
        c.erase("rope_theta");
        c["rope_parameters"] = {{"rope_theta", 1e6}, {"rope_type", "default"}};
    };
    for (const Family& f : {kLlama, kQwen2}) {
        const gguf::Writer w = convert_edited(f, v5);
        EXPECT_EQ(float_key(w, std::string(f.gguf_arch) + ".rope.freq_base"), 1e6) << f.gguf_arch;
    }
    const gguf::Writer g3 = convert_edited(kGemma3, [](json& c) {
        c.erase("rope_theta");
        c["rope_parameters"] = {{"full_attention", {{"rope_theta", 1e6}, {"rope_type", "default"}}},
                                {"sliding_attention", {{"rope_theta", 1e4}, {"rope_type", "default"}}}};
    });
    EXPECT_EQ(float_key(g3, "gemma3.rope.freq_base"), 1e6);
    EXPECT_EQ(float_key(g3, "gemma3.rope.freq_base_swa"), 1e4);
    // Transformers 4's spelling still works, and linear scaling is read from either place.
    const gguf::Writer v4 = convert_edited(kGemma3, [](json& c) {
        c["rope_local_base_freq"] = 1e4;
        c["rope_scaling"] = {{"rope_type", "linear"}, {"factor", 8.0}};
    });
    EXPECT_EQ(float_key(v4, "gemma3.rope.freq_base"), 1e4);  // decoder_config's rope_theta
    EXPECT_EQ(float_key(v4, "gemma3.rope.freq_base_swa"), 1e4);
    EXPECT_EQ(float_key(v4, "gemma3.rope.scaling.factor"), 8.0);
    const gguf::Writer lin = convert_edited(kQwen2, [](json& c) {
        c["rope_parameters"] = {{"rope_theta", 1e6}, {"rope_type", "linear"}, {"factor", 4.0}};
    });
    EXPECT_EQ(float_key(lin, "qwen2.rope.scaling.factor"), 4.0);
}

// rope.dimension_count and vocab_size are stated for llama (and phi3's rotary width) only; the
// loaders take head_dim for the others. Gemma2's converter never states the rope base.
TEST(ConvertMetadata, KeysStatedPerArchitectureAsLlamaCppDoes) {
    const gguf::Writer llama = convert_edited(kLlama, [](json&) {});
    EXPECT_EQ(int_key(llama, "llama.rope.dimension_count"), HD);
    EXPECT_EQ(int_key(llama, "llama.vocab_size"), V);
    const gguf::Writer qwen2 = convert_edited(kQwen2, [](json&) {});
    EXPECT_EQ(qwen2.find("qwen2.rope.dimension_count"), nullptr);
    EXPECT_EQ(qwen2.find("qwen2.vocab_size"), nullptr);
    const gguf::Writer gemma2 = convert_edited(kGemma2, [](json&) {});
    EXPECT_EQ(gemma2.find("gemma2.rope.freq_base"), nullptr);
    EXPECT_EQ(gemma2.find("gemma2.rope.dimension_count"), nullptr);
    // Phi3: sliding_window 0 when absent (full attention), the original context from the top
    // level, the rotary width from partial_rotary_factor * hidden_size / heads.
    const gguf::Writer phi3 = convert_edited(kPhi3, [](json& c) {
        c["sliding_window"] = nullptr;
        c["original_max_position_embeddings"] = 4096;
        c["partial_rotary_factor"] = 0.5;
    });
    EXPECT_EQ(int_key(phi3, "phi3.attention.sliding_window"), 0);
    EXPECT_EQ(int_key(phi3, "phi3.rope.scaling.original_context_length"), 4096);
    EXPECT_EQ(int_key(phi3, "phi3.rope.dimension_count"), E / 2 / NH);
}

// A tokenizer.model with two pieces and the normalizer's add_dummy_prefix flag (protobuf by
// hand: ModelProto.pieces = 1 {piece = 1, score = 2, type = 3}, normalizer_spec = 3
// {add_dummy_prefix = 3}).
std::string spm_proto(bool add_dummy_prefix) {
    std::string out;
    const auto piece = [&](const std::string& text, int type) {
        std::string p;
        p += '\x0a';
        p += (char)text.size();
        p += text;
        p += '\x15';
        p.append(4, '\0');  // score 0.0f
        p += '\x18';
        p += (char)type;
        out += '\x0a';
        out += (char)p.size();
        out += p;
    };
    piece("<unk>", 2);
    piece("\xE2\x96\x81hello", 1);
    out += '\x1a';
    out += '\x02';
    out += '\x18';
    out += add_dummy_prefix ? '\x01' : '\x00';
    return out;
}

std::optional<bool> space_prefix(const Family& f, bool add_dummy_prefix, const json& tok_config) {
    TempDir dir(f.gguf_arch);
    make_decoder(dir.path(), f);
    fs::remove(dir.path() / "tokenizer.json");
    std::ofstream(dir.path() / "tokenizer.model", std::ios::binary) << spm_proto(add_dummy_prefix);
    dir.write("tokenizer_config.json", tok_config);
    const gguf::Writer w = build_gguf(dir.path(), {});
    const gguf::Value* v = w.find("tokenizer.ggml.add_space_prefix");
    return v ? std::optional<bool>(v->i != 0) : std::nullopt;
}

// The loaders' SentencePiece default is a leading space, so the key is stated only against it;
// Gemma's tokenizers never add one.
TEST(ConvertMetadata, AddSpacePrefixOnlyWhereItIsNotTheDefault) {
    const json none = json::object();
    EXPECT_EQ(space_prefix(kLlama, true, none), std::nullopt);
    EXPECT_EQ(space_prefix(kLlama, false, none), false);
    EXPECT_EQ(space_prefix(kLlama, true, {{"add_prefix_space", false}}), false);
    EXPECT_EQ(space_prefix(kGemma2, true, none), false);
    EXPECT_EQ(space_prefix(kGemma3, true, none), false);
}

}  // namespace
}  // namespace lokal::convert
