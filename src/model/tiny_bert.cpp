// Random-weight BERT models for tests (see tiny_bert.h).
#include "model/tiny_bert.h"

#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"

namespace lokal::model {

void write_tiny_bert_gguf(const std::string& path, const std::string& vocab_path,
                          const TinyBertOptions& o) {
    const int pooling = o.pooling;
    const bool nomic = o.nomic;
    auto vocab = gguf::File::open(vocab_path);
    gguf::Writer w;
    const std::string arch = nomic ? "nomic-bert" : "bert";
    w.set_string("general.architecture", arch);
    w.set_string("general.name", "tiny-bert");
    for (const auto& [key, value] : vocab->metadata()) {
        if (key.rfind("tokenizer.", 0) == 0) w.set_value(key, value);
    }
    const uint64_t E = 64, F = 128, V = vocab->get_string_array("tokenizer.ggml.tokens")->size();
    w.set_u32(arch + ".context_length", 128);
    w.set_u32(arch + ".embedding_length", E);
    w.set_u32(arch + ".feed_forward_length", F);
    w.set_u32(arch + ".block_count", 2);
    w.set_u32(arch + ".attention.head_count", 4);
    w.set_f32(arch + ".attention.layer_norm_epsilon", 1e-12f);
    w.set_u32(arch + ".pooling_type", pooling);
    w.set_bool(arch + ".attention.causal", false);
    w.set_u32("tokenizer.ggml.token_type_count", 2);
    uint64_t seed = 1;
    auto rnd = [&](const std::string& name, std::vector<uint64_t> dims, float scale = 0.1f) {
        w.add_random_tensor(name, DType::F32, std::move(dims), seed++, scale);
    };
    auto ones = [&](const std::string& name) {
        std::vector<float> v(E, 1.0f);
        w.add_tensor_f32(name, DType::F32, {E}, v);
    };
    rnd("token_embd.weight", {E, V});
    rnd("token_types.weight", {E, 2});
    if (nomic) {
        w.set_f32(arch + ".rope.freq_base", 1000.0f);
    } else {
        rnd("position_embd.weight", {E, 128});
    }
    ones("token_embd_norm.weight");
    rnd("token_embd_norm.bias", {E});
    for (int l = 0; l < 2; ++l) {
        const std::string p = "blk." + std::to_string(l) + ".";
        if (nomic) {
            rnd(p + "attn_qkv.weight", {E, 3 * E});
            rnd(p + "attn_output.weight", {E, E});
        } else {
            for (const char* m : {"attn_q", "attn_k", "attn_v", "attn_output"}) {
                rnd(p + m + ".weight", {E, E});
                rnd(p + m + ".bias", {E});
            }
        }
        ones(p + "attn_output_norm.weight");
        rnd(p + "attn_output_norm.bias", {E});
        rnd(p + "ffn_up.weight", {E, F});
        rnd(p + "ffn_down.weight", {F, E});
        if (nomic) {
            rnd(p + "ffn_gate.weight", {E, F});
        } else {
            rnd(p + "ffn_up.bias", {F});
            rnd(p + "ffn_down.bias", {E});
        }
        ones(p + "layer_output_norm.weight");
        rnd(p + "layer_output_norm.bias", {E});
    }
    if (pooling == 4 && o.rank_head) {
        rnd("cls.weight", {E, E}, 0.3f);
        rnd("cls.bias", {E});
        rnd("cls.output.weight", {E, 1}, 0.5f);
        rnd("cls.output.bias", {1});
    }
    w.write_file(path);
}

}  // namespace lokal::model
