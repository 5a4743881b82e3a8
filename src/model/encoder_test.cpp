#include "model/encoder.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <span>
#include <tuple>

#include "base/error.h"
#include "base/test_support.h"
#include "gguf/gguf_writer.h"
#include "model/context.h"
#include "model/tiny_bert.h"

namespace lokal::model {
namespace {

std::string write_tiny_bert(const std::string& path, int pooling, bool nomic = false,
                            bool rank_head = true) {
    write_tiny_bert_gguf(path, testing::testdata_path("tokenizer/ggml-vocab-bert-bge.gguf"),
                         {pooling, nomic, rank_head});
    return path;
}

// Per process: ctest runs these on the CPU and on the GPU at the same time.
std::string unique_path(const std::filesystem::path& dir, const std::string& stem) {
    return (dir / (stem + "-" + std::to_string(::getpid()) + ".gguf")).string();
}

float dot(const std::vector<float>& a, const std::vector<float>& b) {
    float s = 0;
    for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
    return s;
}

TEST(Encoder, BertEmbeddingsAreNormalisedDeterministicAndPooled) {
    LOKAL_REQUIRE_TESTDATA("tokenizer/ggml-vocab-bert-bge.gguf");
    const auto dir = std::filesystem::temp_directory_path();
    const std::string mean_path = write_tiny_bert(unique_path(dir, "lokal-tiny-bert-mean"), 1);
    const std::string cls_path = write_tiny_bert(unique_path(dir, "lokal-tiny-bert-cls"), 2);
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

TEST(Encoder, RerankerScoresThePairThroughTheClassifierHead) {
    LOKAL_REQUIRE_TESTDATA("tokenizer/ggml-vocab-bert-bge.gguf");
    const auto dir = std::filesystem::temp_directory_path();
    const std::string path = write_tiny_bert(unique_path(dir, "lokal-tiny-reranker"), 4);
    auto model = Model::load(path);
    ASSERT_EQ(model->config().pooling, Pooling::Rank);
    Encoder enc(*model, 2);
    const auto& tok = model->tokenizer();
    const auto pair = tok.encode_pair("what is a cat", "the cat sat on the mat");
    const auto scores = enc.embed(pair);
    ASSERT_EQ(scores.size(), 1u);

    // The head by hand from the CLS hidden state, in double precision.
    const EncoderWeights& ew = model->weights().encoder;
    const int64_t E = model->config().n_embd;
    const std::vector<float> h = enc.hidden_states(pair);
    std::vector<float> row(E), out_row(E);
    kernels::get_row(ew.cls_out, 0, out_row.data());
    double score = ew.cls_out_b[0];
    for (int64_t i = 0; i < E; ++i) {
        kernels::get_row(ew.cls, i, row.data());
        double t = ew.cls_b[i];
        for (int64_t k = 0; k < E; ++k) t += (double)row[k] * h[k];
        score += std::tanh(t) * out_row[i];
    }
    EXPECT_NEAR(scores[0], score, 1e-4 * (1 + std::fabs(score)));
    EXPECT_EQ(enc.embed(pair), scores);
    EXPECT_NE(enc.embed(tok.encode_pair("what is a cat", "stock prices fell sharply")), scores);
    if (!std::getenv("LOKAL_KEEP_TEST_MODELS")) std::filesystem::remove(path);
}

TEST(Encoder, RerankerWithoutClassifierIsRefusedAtLoad) {
    LOKAL_REQUIRE_TESTDATA("tokenizer/ggml-vocab-bert-bge.gguf");
    const auto dir = std::filesystem::temp_directory_path();
    const std::string path =
        write_tiny_bert(unique_path(dir, "lokal-tiny-reranker-nohead"), 4, false, false);
    try {
        Model::load(path);
        ADD_FAILURE() << "loaded a reranker without its classifier";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("cls.output.weight"), std::string::npos) << e.what();
    }
    std::filesystem::remove(path);
}

TEST(Encoder, NomicBertUsesRotaryPositionsAndSwiglu) {
    LOKAL_REQUIRE_TESTDATA("tokenizer/ggml-vocab-bert-bge.gguf");
    const auto dir = std::filesystem::temp_directory_path();
    const std::string path = write_tiny_bert(unique_path(dir, "lokal-tiny-nomic"), 1, true);
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

// embed_batch stacks the sequences' rows: each row's matmuls, norms and pooling see the same
// numbers as alone, and attention runs the backend's kernel over the row's own sequence only.
// Tolerance 1e-5 per component of unit vectors: a backend may sum a matmul's products in a
// different order for a taller batch (Backend::exact_batch_rows), a few float ulps apart.
TEST(Encoder, BatchedEmbeddingsEqualOneAtATime) {
    LOKAL_REQUIRE_TESTDATA("tokenizer/ggml-vocab-bert-bge.gguf");
    const auto dir = std::filesystem::temp_directory_path();
    for (const auto& [stem, pooling, nomic] : {std::tuple{"lokal-tiny-bert-batch-mean", 1, false},
                                               std::tuple{"lokal-tiny-bert-batch-cls", 2, false},
                                               std::tuple{"lokal-tiny-nomic-batch", 1, true}}) {
        SCOPED_TRACE(stem);
        const std::string path = write_tiny_bert(unique_path(dir, stem), pooling, nomic);
        auto model = Model::load(path);
        Encoder enc(*model, 2);
        const auto& tok = model->tokenizer();
        std::vector<std::vector<int32_t>> seqs;
        for (const char* text :
             {"the cat sat on the mat", "quantum chromodynamics",
              "a longer sentence about mountain weather where it rains every afternoon", "ok",
              "the cat sat on the mat"}) {
            seqs.push_back(tok.encode(text, true, false));
        }
        const std::vector<std::span<const int32_t>> spans(seqs.begin(), seqs.end());
        const auto batched = enc.embed_batch(spans);
        ASSERT_EQ(batched.size(), seqs.size());
        for (size_t i = 0; i < seqs.size(); ++i) {
            const std::vector<float> alone = enc.embed(seqs[i]);
            ASSERT_EQ(batched[i].size(), alone.size());
            for (size_t j = 0; j < alone.size(); ++j) {
                ASSERT_NEAR(batched[i][j], alone[j], 1e-5f)
                    << "sequence " << i << " component " << j;
            }
        }
        // Neighbours in the batch do not leak into each other: the same text twice, same vector.
        for (size_t j = 0; j < batched[0].size(); ++j) {
            ASSERT_NEAR(batched[0][j], batched[4][j], 1e-5f);
        }
        EXPECT_LT(dot(batched[0], batched[1]), 0.999f);
        if (!std::getenv("LOKAL_KEEP_TEST_MODELS")) std::filesystem::remove(path);
    }
}

}  // namespace
}  // namespace lokal::model
