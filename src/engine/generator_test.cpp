#include "engine/generator.h"

#include <gtest/gtest.h>

#include "base/test_support.h"

namespace lokal::engine {
namespace {

class GeneratorTest : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!std::filesystem::exists(testing::testdata_path("models/stories260K.gguf"))) {
            if (testing::in_ci()) FAIL() << "stories260K.gguf missing in CI";
            GTEST_SKIP() << "stories260K.gguf not found";
        }
        model_ = model::Model::load(testing::testdata_path("models/stories260K.gguf"));
        model::ContextParams cp;
        cp.n_ctx = 128;
        ctx_ = std::make_unique<model::Context>(*model_, cp);
        sampling::SamplingParams sp;
        sp.temperature = 0;
        sp.repeat_penalty = 1.0f;
        sampler_ = std::make_unique<sampling::Sampler>(sp, ctx_->n_vocab());
        prompt_ = model_->tokenizer().encode("Once upon a time", true, false);
    }

    std::string run(const GenerateOptions& o, GenerateStats* stats_out = nullptr,
                    int stop_after_pieces = -1) {
        ctx_->truncate(0);
        sampler_->reset();
        std::string text;
        int pieces = 0;
        auto stats = generate(*ctx_, *sampler_, prompt_, o, [&](std::string_view p) {
            text += p;
            return ++pieces != stop_after_pieces;
        });
        if (stats_out) *stats_out = stats;
        return text;
    }

    std::unique_ptr<model::Model> model_;
    std::unique_ptr<model::Context> ctx_;
    std::unique_ptr<sampling::Sampler> sampler_;
    std::vector<int32_t> prompt_;
};

TEST_F(GeneratorTest, GreedyRespectsTokenLimit) {
    GenerateOptions o;
    o.max_tokens = 12;
    GenerateStats s;
    const std::string text = run(o, &s);
    EXPECT_EQ(s.generated_tokens, 12);
    EXPECT_EQ(s.reason, StopReason::MaxTokens);
    EXPECT_EQ(text.rfind(", there was a little girl", 0), 0u) << text;
    EXPECT_EQ(s.prompt_tokens, 5);
}

TEST_F(GeneratorTest, StopStringEndsAndIsNotPrinted) {
    GenerateOptions o;
    o.max_tokens = 64;
    o.stop = {"Lily"};
    GenerateStats s;
    const std::string text = run(o, &s);
    EXPECT_EQ(s.reason, StopReason::StopString);
    EXPECT_EQ(text, ", there was a little girl named ");
}

TEST_F(GeneratorTest, CallbackCanCancel) {
    GenerateOptions o;
    o.max_tokens = 64;
    GenerateStats s;
    run(o, &s, 3);
    EXPECT_EQ(s.reason, StopReason::Cancelled);
    EXPECT_LE(s.generated_tokens, 4);
}

TEST_F(GeneratorTest, ContextFullStops) {
    GenerateOptions o;
    GenerateStats s;
    run(o, &s);
    EXPECT_TRUE(s.reason == StopReason::ContextFull || s.reason == StopReason::EndOfGeneration);
    EXPECT_LE(ctx_->n_past(), ctx_->n_ctx());
}

}  // namespace
}  // namespace lokal::engine
