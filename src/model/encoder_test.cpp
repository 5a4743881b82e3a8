#include "model/encoder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "base/error.h"
#include "base/test_support.h"
#include "gguf/gguf_writer.h"
#include "model/context.h"

namespace lokal::model {
namespace {

// A random-weight BERT with the real bge vocabulary (from ../shared/testdata/tokenizer).
std::string write_tiny_bert(const std::string& path, int pooling) {
    auto vocab = gguf::File::open(testing::testdata_path("tokenizer/ggml-vocab-bert-bge.gguf"));
    gguf::Writer w;
    w.set_string("general.architecture", "bert");
    w.set_string("general.name", "tiny-bert");
    for (const auto& [key, value] : vocab->metadata()) {
        if (key.rfind("tokenizer.", 0) == 0) w.set_value(key, value);
    }
    const uint64_t E = 64, F = 128, V = vocab->get_string_array("tokenizer.ggml.tokens")->size();
    w.set_u32("bert.context_length", 128);
    w.set_u32("bert.embedding_length", E);
    w.set_u32("bert.feed_forward_length", F);
    w.set_u32("bert.block_count", 2);
    w.set_u32("bert.attention.head_count", 4);
    w.set_f32("bert.attention.layer_norm_epsilon", 1e-12f);
    w.set_u32("bert.pooling_type", pooling);
    w.set_bool("bert.attention.causal", false);
    w.set_u32("tokenizer.ggml.token_type_count", 2);
    uint64_t seed = 1;
    auto rnd = [&](const std::string& name, std::vector<uint64_t> dims, float scale = 0.1f) {
        w.add_random_tensor(name, DType::F32, dims, seed++, scale);
    };
    auto ones = [&](const std::string& name) {
        std::vector<float> v(E, 1.0f);
        w.add_tensor_f32(name, DType::F32, {E}, v);
    };
    rnd("token_embd.weight", {E, V});
    rnd("token_types.weight", {E, 2});
    rnd("position_embd.weight", {E, 128});
    ones("token_embd_norm.weight");
    rnd("token_embd_norm.bias", {E});
    for (int l = 0; l < 2; ++l) {
        const std::string p = "blk." + std::to_string(l) + ".";
        for (const char* m : {"attn_q", "attn_k", "attn_v", "attn_output"}) {
            rnd(p + m + ".weight", {E, E});
            rnd(p + m + ".bias", {E});
        }
        ones(p + "attn_output_norm.weight");
        rnd(p + "attn_output_norm.bias", {E});
        rnd(p + "ffn_up.weight", {E, F});
        rnd(p + "ffn_up.bias", {F});
        rnd(p + "ffn_down.weight", {F, E});
        rnd(p + "ffn_down.bias", {E});
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
    std::filesystem::remove(mean_path);
    std::filesystem::remove(cls_path);
}

}  // namespace
}  // namespace lokal::model
