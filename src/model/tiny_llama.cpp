// Random-weight llama models for tests (see tiny_llama.h).
#include "model/tiny_llama.h"

#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"

namespace lokal::model {

void write_tiny_llama_gguf(const std::string& path, const std::string& vocab_path) {
    auto vocab = gguf::File::open(vocab_path);
    gguf::Writer w;
    w.set_string("general.architecture", "llama");
    w.set_string("general.name", "tiny-llama");
    for (const auto& [key, value] : vocab->metadata()) {
        if (key.rfind("tokenizer.", 0) == 0) w.set_value(key, value);
    }
    const uint64_t E = 64, F = 128, V = vocab->get_string_array("tokenizer.ggml.tokens")->size();
    const uint64_t n_head = 4, n_head_kv = 2, head_dim = E / n_head;
    w.set_u32("llama.context_length", 256);
    w.set_u32("llama.embedding_length", E);
    w.set_u32("llama.feed_forward_length", F);
    w.set_u32("llama.block_count", 2);
    w.set_u32("llama.attention.head_count", n_head);
    w.set_u32("llama.attention.head_count_kv", n_head_kv);
    w.set_u32("llama.rope.dimension_count", head_dim);
    w.set_f32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
    uint64_t seed = 1;
    auto rnd = [&](const std::string& name, std::vector<uint64_t> dims) {
        w.add_random_tensor(name, DType::F32, std::move(dims), seed++, 0.1f);
    };
    auto ones = [&](const std::string& name) {
        std::vector<float> v(E, 1.0f);
        w.add_tensor_f32(name, DType::F32, {E}, v);
    };
    rnd("token_embd.weight", {E, V});
    for (int l = 0; l < 2; ++l) {
        const std::string p = "blk." + std::to_string(l) + ".";
        ones(p + "attn_norm.weight");
        rnd(p + "attn_q.weight", {E, E});
        rnd(p + "attn_k.weight", {E, n_head_kv * head_dim});
        rnd(p + "attn_v.weight", {E, n_head_kv * head_dim});
        rnd(p + "attn_output.weight", {E, E});
        ones(p + "ffn_norm.weight");
        rnd(p + "ffn_gate.weight", {E, F});
        rnd(p + "ffn_up.weight", {E, F});
        rnd(p + "ffn_down.weight", {F, E});
    }
    ones("output_norm.weight");
    w.write_file(path);  // no output.weight: tied to the embeddings
}

}  // namespace lokal::model
