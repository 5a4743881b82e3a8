// Writes random-weight GGUF models with the shapes of real ones, for benchmarks (never committed):
//
//   make_bench_model --shape llama-1b|llama-8b|qwen-0.5b --type q4_0|q4_k_m|q5_k_m|q6_k|...
//                    --vocab VOCAB.gguf -o OUT.gguf
//
// llama-1b is Llama-3.2-1B's shape (n_embd 2048, 16 layers, 32 heads, 8 KV heads, FFN 8192, tied
// embeddings); llama-8b is Llama-3.1-8B's (4096, 32 layers, 32 heads, 8 KV heads, FFN 14336,
// a separate output matrix); qwen-0.5b is Qwen2.5-0.5B's as a llama-architecture model (896, 24
// layers, 14 heads, 2 KV heads, FFN 4864). The tokenizer metadata comes from VOCAB (e.g. testdata's
// ggml-vocab-llama-bpe.gguf or ggml-vocab-qwen2.gguf), so the vocabulary has its real size.
//
// Tensor types follow llama.cpp's choices for each file type (kFileTypes), so both programs run
// the same kernels: q4_k_m keeps Q6_K for the tied embedding/output and for attn_v and ffn_down
// in the layers llama.cpp gives more bits, Q4_K elsewhere; rows whose width is not a multiple of
// 256 fall back to a 32-element type (Q5_0 for Q2_K..Q4_K, Q5_1 for Q5_K, Q8_0 for Q6_K), as
// llama.cpp's quantizer does.
//
// Weights are 64 distinct random rows per tensor, repeated: the bytes a kernel streams are the
// same as a real model's, and writing a 1B model takes seconds.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "base/error.h"
#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
#include "tensor/dtype.h"
#include "tensor/quantize.h"

namespace {

using lokal::DType;
using lokal::Error;

struct Shape {
    const char* name;
    int n_embd, n_layer, n_head, n_head_kv, n_ff, n_ctx;
    float rope_base, norm_eps;
    bool tied;  // the token embedding is the output projection too
};

constexpr Shape kShapes[] = {
    {"llama-1b", 2048, 16, 32, 8, 8192, 131072, 500000.0f, 1e-5f, true},
    {"llama-8b", 4096, 32, 32, 8, 14336, 131072, 500000.0f, 1e-5f, false},
    {"qwen-0.5b", 896, 24, 14, 2, 4864, 32768, 1000000.0f, 1e-6f, true},
};

uint64_t splitmix64(uint64_t& s) {
    uint64_t z = (s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

// llama.cpp's fallback when a row is not a whole number of 256-element super-blocks.
// One row per --type: the type of most matrices, of the embedding/output, and of attn_v and
// ffn_down in the layers llama.cpp gives more bits; llama.cpp's LLAMA_FTYPE_* number.
struct FileType {
    const char* name;
    DType base, emb, wide;
    uint32_t llama_ftype;
};

constexpr FileType kFileTypes[] = {
    {"f16", DType::F16, DType::F16, DType::F16, 1},
    {"q4_0", DType::Q4_0, DType::Q6_K, DType::Q4_0, 2},
    {"q4_1", DType::Q4_1, DType::Q6_K, DType::Q4_1, 3},
    {"q8_0", DType::Q8_0, DType::Q8_0, DType::Q8_0, 7},
    {"q5_0", DType::Q5_0, DType::Q6_K, DType::Q5_0, 8},
    {"q5_1", DType::Q5_1, DType::Q6_K, DType::Q5_1, 9},
    {"q2_k", DType::Q2_K, DType::Q6_K, DType::Q3_K, 10},
    {"q3_k_m", DType::Q3_K, DType::Q6_K, DType::Q4_K, 12},
    {"q4_k_m", DType::Q4_K, DType::Q6_K, DType::Q6_K, 15},
    {"q5_k_m", DType::Q5_K, DType::Q6_K, DType::Q6_K, 17},
    {"q6_k", DType::Q6_K, DType::Q6_K, DType::Q6_K, 18},
    {"iq4_nl", DType::IQ4_NL, DType::Q6_K, DType::IQ4_NL, 25},
    {"iq4_xs", DType::IQ4_XS, DType::Q6_K, DType::IQ4_XS, 30},
};

const FileType* find_file_type(const std::string& name) {
    for (const FileType& f : kFileTypes) {
        if (name == f.name) return &f;
    }
    return nullptr;
}

std::string file_type_names() {
    std::string names;
    for (const FileType& f : kFileTypes) names += (names.empty() ? "" : "|") + std::string(f.name);
    return names;
}

DType fit(DType t, int64_t cols) {
    if (cols % 256 == 0) return t;
    switch (t) {
        case DType::Q2_K:
        case DType::Q3_K:
        case DType::Q4_K:
        case DType::IQ4_XS:
            return DType::Q5_0;
        case DType::Q5_K:
            return DType::Q5_1;
        case DType::Q6_K:
            return DType::Q8_0;
        default:
            return t;
    }
}

std::vector<uint8_t> random_rows(DType t, int64_t rows, int64_t cols, uint64_t seed) {
    constexpr int64_t kDistinct = 64;
    const size_t stride = lokal::row_bytes(t, cols);
    std::vector<uint8_t> pool(stride * kDistinct);
    std::vector<float> x(cols);
    uint64_t s = seed;
    const float scale = 1.0f / std::sqrt((float)cols);
    for (int64_t r = 0; r < kDistinct; ++r) {
        for (float& v : x) {
            const float u = (float)(splitmix64(s) >> 40) * (1.0f / 16777216.0f);
            v = (2.0f * u - 1.0f) * scale;
        }
        lokal::quantize_row(t, x.data(), pool.data() + r * stride, cols);
    }
    std::vector<uint8_t> out(stride * rows);
    for (int64_t r = 0; r < rows; ++r) {
        std::memcpy(out.data() + r * stride, pool.data() + (splitmix64(s) % kDistinct) * stride,
                    stride);
    }
    return out;
}

void write_model(const Shape& sh, const std::string& type, const std::string& vocab_path,
                 const std::string& out) {
    auto vocab = lokal::gguf::File::open(vocab_path);
    const auto tokens = vocab->get_string_array("tokenizer.ggml.tokens");
    if (!tokens) throw Error(vocab_path + " has no tokenizer.ggml.tokens");
    const int64_t V = (int64_t)tokens->size(), E = sh.n_embd, F = sh.n_ff;
    const int64_t hd = E / sh.n_head, KV = hd * sh.n_head_kv;

    const FileType* ft = find_file_type(type);
    if (!ft) throw Error("unknown --type '" + type + "' (" + file_type_names() + ")");
    const DType base = ft->base, emb = ft->emb, wide_type = ft->wide;
    const uint32_t file_type = ft->llama_ftype;

    lokal::gguf::Writer w;
    w.set_string("general.architecture", "llama");
    w.set_string("general.name", std::string("bench ") + sh.name + " " + type);
    w.set_u32("general.file_type", file_type);
    w.set_u32("llama.context_length", sh.n_ctx);
    w.set_u32("llama.embedding_length", E);
    w.set_u32("llama.block_count", sh.n_layer);
    w.set_u32("llama.feed_forward_length", F);
    w.set_u32("llama.attention.head_count", sh.n_head);
    w.set_u32("llama.attention.head_count_kv", sh.n_head_kv);
    w.set_u32("llama.rope.dimension_count", hd);
    w.set_f32("llama.rope.freq_base", sh.rope_base);
    w.set_f32("llama.attention.layer_norm_rms_epsilon", sh.norm_eps);
    w.set_u32("llama.vocab_size", V);
    for (const auto& [key, value] : vocab->metadata()) {
        if (key.rfind("tokenizer.", 0) == 0) w.set_value(key, value);
    }

    uint64_t seed = 1;
    auto matrix = [&](const std::string& name, DType t, int64_t rows, int64_t cols) {
        t = fit(t, cols);
        w.add_tensor(name, t, {(uint64_t)cols, (uint64_t)rows}, random_rows(t, rows, cols, seed++));
    };
    auto norm = [&](const std::string& name) {
        std::vector<float> ones(E, 1.0f);
        w.add_tensor_f32(name, DType::F32, {(uint64_t)E}, ones);
    };
    if (sh.tied) {
        matrix("token_embd.weight", emb, V, E);  // also the output projection
    } else {  // llama.cpp keeps the wider type for the output only
        matrix("token_embd.weight", base, V, E);
        matrix("output.weight", emb, V, E);
    }
    norm("output_norm.weight");
    const int n = sh.n_layer;
    for (int l = 0; l < n; ++l) {
        const std::string p = "blk." + std::to_string(l) + ".";
        const bool more_bits = l < n / 8 || l >= 7 * n / 8 || (l - n / 8) % 3 == 2;
        const DType wide = more_bits ? wide_type : base;
        norm(p + "attn_norm.weight");
        matrix(p + "attn_q.weight", base, E, E);
        matrix(p + "attn_k.weight", base, KV, E);
        matrix(p + "attn_v.weight", wide, KV, E);
        matrix(p + "attn_output.weight", base, E, E);
        norm(p + "ffn_norm.weight");
        matrix(p + "ffn_gate.weight", base, F, E);
        matrix(p + "ffn_up.weight", base, F, E);
        matrix(p + "ffn_down.weight", wide, E, F);
    }
    w.write_file(out);
}

}  // namespace

int main(int argc, char** argv) {
    std::string shape, type, vocab, out;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string k = argv[i];
        if (k == "--shape")
            shape = argv[i + 1];
        else if (k == "--type")
            type = argv[i + 1];
        else if (k == "--vocab")
            vocab = argv[i + 1];
        else if (k == "-o")
            out = argv[i + 1];
    }
    if (shape.empty() || type.empty() || vocab.empty() || out.empty()) {
        std::fprintf(stderr,
                     "usage: make_bench_model --shape llama-1b|llama-8b|qwen-0.5b "
                     "--type %s --vocab VOCAB.gguf -o OUT.gguf\n",
                     file_type_names().c_str());
        return 2;
    }
    try {
        for (const Shape& s : kShapes) {
            if (shape == s.name) {
                write_model(s, type, vocab, out);
                return 0;
            }
        }
        throw Error("unknown --shape '" + shape + "' (llama-1b, llama-8b, qwen-0.5b)");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "make_bench_model: %s\n", e.what());
        return 1;
    }
}
