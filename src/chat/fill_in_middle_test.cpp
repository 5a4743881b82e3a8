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

TEST(FillInMiddle, InfillLaysContextFilesOutAsARepositoryWithRepoTokens) {
    LOKAL_REQUIRE_TESTDATA("tokenizer/ggml-vocab-qwen2.gguf");
    std::unique_ptr<gguf::File> file;
    const auto tok = vocab("ggml-vocab-qwen2.gguf", file);
    const auto fim = find_fim_tokens(*tok, fim_token_ids(*file));
    const auto repo = find_fim_repo_tokens(*tok, *file);
    ASSERT_TRUE(fim && repo);
    const FimContextFile files[] = {{"util.py", "def one():\n    return 1\n"},
                                    {"b.py", "X = 2\n"}};
    const auto got = infill_prompt(*tok, *fim, repo, {"a = ", "\nprint(a)", "one(", files});
    const std::string text =
        "<|repo_name|>myproject\n<|file_sep|>util.py\ndef one():\n    return 1\n"
        "<|file_sep|>b.py\nX = 2\n<|file_sep|>filename\n"
        "<|fim_prefix|>a = <|fim_suffix|>\nprint(a)<|fim_middle|>one(";
    EXPECT_EQ(got, tok->encode(text, true, true));
    // Without context the prompt is fim_prompt's, plus the started middle.
    auto plain = fim_prompt(*tok, *fim, "a = ", "\nprint(a)");
    const auto start = tok->encode("one(", false, false);
    plain.insert(plain.end(), start.begin(), start.end());
    EXPECT_EQ(infill_prompt(*tok, *fim, repo, {"a = ", "\nprint(a)", "one(", {}}), plain);
}

TEST(FillInMiddle, InfillPutsContextTextBeforeThePrefixWithoutRepoTokens) {
    LOKAL_REQUIRE_TESTDATA("tokenizer/ggml-vocab-deepseek-coder.gguf");
    std::unique_ptr<gguf::File> file;
    const auto tok = vocab("ggml-vocab-deepseek-coder.gguf", file);
    const auto fim = find_fim_tokens(*tok, fim_token_ids(*file));
    ASSERT_TRUE(fim);
    EXPECT_FALSE(find_fim_repo_tokens(*tok, *file));
    const FimContextFile files[] = {{"util.py", "X = 1\n"}};
    const auto got = infill_prompt(*tok, *fim, std::nullopt, {"a", "b", "", files});
    const std::string text = "X = 1\n<｜fim▁begin｜>a<｜fim▁hole｜>b<｜fim▁end｜>";
    EXPECT_EQ(got, tok->encode(text, true, true));
}

}  // namespace
}  // namespace lokal::chat
