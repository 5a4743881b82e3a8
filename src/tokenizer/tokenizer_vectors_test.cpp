// llama.cpp's own tokenizer test vectors: every text of <vocab>.inp tokenized with
// add_special = false, parse_special = false must give exactly the ids on the matching line of
// <vocab>.out.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "base/test_support.h"
#include "gguf/gguf_file.h"
#include "tokenizer/tokenizer.h"

namespace lokal::tokenizer {
namespace {

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Texts are separated by "\n__ggml_vocab_test__\n"; the file ends with one, so the piece after
// the last separator is empty and not a text.
std::vector<std::string> split_inputs(const std::string& all) {
    static const std::string kSep = "\n__ggml_vocab_test__\n";
    std::vector<std::string> texts;
    size_t start = 0;
    for (;;) {
        const size_t at = all.find(kSep, start);
        if (at == std::string::npos) break;
        texts.push_back(all.substr(start, at - start));
        start = at + kSep.size();
    }
    return texts;
}

std::vector<std::vector<int32_t>> read_outputs(const std::string& all) {
    std::vector<std::vector<int32_t>> out;
    std::istringstream lines(all);
    std::string line;
    while (std::getline(lines, line)) {
        std::istringstream ids(line);
        std::vector<int32_t> v;
        int32_t id = 0;
        while (ids >> id) v.push_back(id);
        out.push_back(std::move(v));
    }
    return out;
}

std::string show(const std::vector<int32_t>& v) {
    std::string s;
    for (int32_t id : v) s += " " + std::to_string(id);
    return s;
}

class VocabVectors : public ::testing::TestWithParam<const char*> {};

TEST_P(VocabVectors, MatchLlamaCpp) {
    const std::string base = std::string("tokenizer/ggml-vocab-") + GetParam() + ".gguf";
    LOKAL_REQUIRE_TESTDATA(base);
    LOKAL_REQUIRE_TESTDATA(base + ".inp");
    LOKAL_REQUIRE_TESTDATA(base + ".out");
    auto file = gguf::File::open(testing::testdata_path(base));
    auto tok = Tokenizer::from_gguf(*file);
    const auto texts = split_inputs(read_file(testing::testdata_path(base + ".inp")));
    const auto expected = read_outputs(read_file(testing::testdata_path(base + ".out")));
    ASSERT_EQ(texts.size(), expected.size());
    ASSERT_GT(texts.size(), 0u);
    for (size_t i = 0; i < texts.size(); ++i) {
        const std::vector<int32_t> got = tok->encode(texts[i], false, false);
        EXPECT_EQ(got, expected[i])
            << "text #" << i << " '" << texts[i] << "'\n  got:     " << show(got)
            << "\n  expected:" << show(expected[i]);
    }
}

// Byte-level BPE loses nothing: decoding gives back the text, byte for byte. SPM gives it back
// too (the leading space it adds is removed again), except where text had no token at all.
TEST_P(VocabVectors, DecodeRoundTrips) {
    const std::string name = GetParam();
    if (name == "bert-bge") GTEST_SKIP() << "WordPiece normalises (lowercase, accents, spaces)";
    const std::string base = "tokenizer/ggml-vocab-" + name + ".gguf";
    LOKAL_REQUIRE_TESTDATA(base);
    LOKAL_REQUIRE_TESTDATA(base + ".inp");
    auto file = gguf::File::open(testing::testdata_path(base));
    auto tok = Tokenizer::from_gguf(*file);
    for (const std::string& text : split_inputs(read_file(testing::testdata_path(base + ".inp")))) {
        EXPECT_EQ(tok->decode(tok->encode(text, false, false)), text);
    }
}

INSTANTIATE_TEST_SUITE_P(Tokenizer, VocabVectors,
                         ::testing::Values("llama-spm", "phi-3", "llama-bpe", "qwen2", "gpt-2",
                                           "deepseek-llm", "deepseek-coder", "falcon", "starcoder",
                                           "refact", "mpt", "bert-bge"),
                         [](const auto& p) {
                             std::string n = p.param;
                             for (char& c : n) {
                                 if (c == '-') c = '_';
                             }
                             return n;
                         });

}  // namespace
}  // namespace lokal::tokenizer
