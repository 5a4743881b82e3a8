#include "chat/fill_in_middle.h"

#include <gtest/gtest.h>

#include "base/test_support.h"
#include "gguf/gguf_file.h"
#include "tokenizer/tokenizer.h"

namespace lokal::chat {
namespace {

std::unique_ptr<tokenizer::Tokenizer> vocab(const char* name, std::unique_ptr<gguf::File>& file) {
    file = gguf::File::open(testing::testdata_path(std::string("tokenizer/") + name));
    return tokenizer::Tokenizer::from_gguf(*file);
}

TEST(FillInMiddle, FindsEachFamilysTokensAndBuildsPrefixSuffixMiddle) {
    LOKAL_REQUIRE_TESTDATA("tokenizer/ggml-vocab-qwen2.gguf");
    struct Case {
        const char* vocab;
        const char* prefix;
        const char* suffix;
        const char* middle;
    };
    for (const Case& c :
         {Case{"ggml-vocab-qwen2.gguf", "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"},
          Case{"ggml-vocab-deepseek-coder.gguf", "<｜fim▁begin｜>", "<｜fim▁hole｜>",
               "<｜fim▁end｜>"},
          Case{"ggml-vocab-starcoder.gguf", "<fim_prefix>", "<fim_suffix>", "<fim_middle>"}}) {
        std::unique_ptr<gguf::File> file;
        const auto tok = vocab(c.vocab, file);
        const auto fim = find_fim_tokens(*tok, fim_token_ids(*file));
        ASSERT_TRUE(fim) << c.vocab;
        EXPECT_TRUE(gguf_can_fill_in_middle(*file)) << c.vocab;
        const std::vector<int32_t> got = fim_prompt(*tok, *fim, "def f(", "):\n  pass");
        const std::string text =
            std::string(c.prefix) + "def f(" + c.suffix + "):\n  pass" + c.middle;
        EXPECT_EQ(got, tok->encode(text, true, true)) << c.vocab;
    }
}

TEST(FillInMiddle, SpecialTextInTheCodeStaysText) {
    LOKAL_REQUIRE_TESTDATA("tokenizer/ggml-vocab-qwen2.gguf");
    std::unique_ptr<gguf::File> file;
    const auto tok = vocab("ggml-vocab-qwen2.gguf", file);
    const auto fim = find_fim_tokens(*tok);
    ASSERT_TRUE(fim);
    const std::vector<int32_t> got = fim_prompt(*tok, *fim, "s = '<|fim_middle|>'", "");
    EXPECT_EQ(std::count(got.begin(), got.end(), fim->middle), 1);
    EXPECT_EQ(got.back(), fim->middle);
}

TEST(FillInMiddle, VocabulariesWithoutFimTokens) {
    LOKAL_REQUIRE_TESTDATA("tokenizer/ggml-vocab-llama-spm.gguf");
    std::unique_ptr<gguf::File> file;
    const auto tok = vocab("ggml-vocab-llama-spm.gguf", file);
    EXPECT_FALSE(find_fim_tokens(*tok));
    EXPECT_FALSE(gguf_can_fill_in_middle(*file));
}

}  // namespace
}  // namespace lokal::chat
