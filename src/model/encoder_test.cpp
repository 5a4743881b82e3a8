#include "model/encoder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "base/error.h"
#include "base/test_support.h"
#include "gguf/gguf_writer.h"
#include "model/context.h"

namespace lokal::model {
namespace {

// A random-weight BERT with the real bge vocabulary (from ../shared/testdata/tokenizer).
std::string write_tiny_bert(const std::string& path, int pooling, bool nomic = false) {
    auto vocab = gguf::File::open(testing::testdata_path("tokenizer/ggml-vocab-bert-bge.gguf"));
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
    w.write_file(path);
    return path;
}

float dot(const std::vector<float>& a, const std::vector<float>& b) {
    float s = 0;
    for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
    return s;
}

TEST(Encoder, BertEmbeddingsAreNormalisedDeterministicAndPooled) {
    LOKAL_REQUIRE_TESTDATA("tokenizer/ggml-vocab-bert-bge.gguf");
    const auto dir = std::filesystem::temp_directory_path();
    const std::string mean_path = write_tiny_bert((dir / "lokal-tiny-bert-mean.gguf").string(), 1);
    const std::string cls_path = write_tiny_bert((dir / "lokal-tiny-bert-cls.gguf").string(), 2);
    auto mean_model = Model::load(mean_path);
    auto cls_model = Model::load(cls_path);
    EXPECT_EQ(mean_model->config().pooling, Pooling::Mean);
    Encoder mean(*mean_model, 2), cls(*cls_model, 2);
    const auto& tok = mean_model->tokenizer();
    const auto a = tok.encode("the cat sat on the mat", true, false);
    const auto b = tok.encode("quantum chromodynamics", true, false);
    ASSERT_EQ(a.front(), tok.bos());  // [CLS]
    const auto ea = mean.embed(a), ea2 = mean.embed(a), eb = mean.embed(b), ca = cls.embed(a);
    ASSERT_EQ(ea.size(), 64u);
    EXPECT_NEAR(dot(ea, ea), 1.0f, 1e-5);
    EXPECT_NEAR(dot(ca, ca), 1.0f, 1e-5);
    EXPECT_EQ(ea, ea2);
    EXPECT_LT(dot(ea, eb), 0.999f);
    EXPECT_NE(ea, ca);  // same weights, different pooling
    // Bidirectional: changing the last token changes the CLS (first) position's output.
    auto a2 = a;
    a2[a2.size() - 2] = b[1];
    EXPECT_NE(cls.embed(a2), ca);
    EXPECT_THROW(Context(*mean_model, ContextParams{}), Error);
    if (!std::getenv("LOKAL_KEEP_TEST_MODELS")) {
        std::filesystem::remove(mean_path);
        std::filesystem::remove(cls_path);
    }
}

TEST(Encoder, NomicBertUsesRotaryPositionsAndSwiglu) {
    LOKAL_REQUIRE_TESTDATA("tokenizer/ggml-vocab-bert-bge.gguf");
    const auto dir = std::filesystem::temp_directory_path();
    const std::string path = write_tiny_bert((dir / "lokal-tiny-nomic.gguf").string(), 1, true);
    auto model = Model::load(path);
    EXPECT_EQ(model->config().arch, "nomic-bert");
    EXPECT_EQ(model->config().rope.n_rot, 16);
    Encoder enc(*model, 2);
    const auto& tok = model->tokenizer();
    const auto e1 = enc.embed(tok.encode("the cat sat on the mat", true, false));
    const auto e2 = enc.embed(tok.encode("mat the on sat cat the", true, false));
    EXPECT_NEAR(dot(e1, e1), 1.0f, 1e-5);
    // Without positions, mean pooling would make a permutation give the same vector.
    EXPECT_LT(dot(e1, e2), 0.99999f);
    if (!std::getenv("LOKAL_KEEP_TEST_MODELS")) std::filesystem::remove(path);
}

}  // namespace
}  // namespace lokal::model
