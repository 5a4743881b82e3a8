// Tokenizer behaviour beyond the llama.cpp vectors: special tokens, BOS/EOS, vocabularies without
// vectors, error messages and speed.
#include "tokenizer/tokenizer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>

#include "base/error.h"
#include "base/test_support.h"
#include "gguf/gguf_file.h"
#include "tokenizer/stream_decoder.h"
#include "tokenizer/unicode.h"

namespace lokal::tokenizer {
namespace {

std::unique_ptr<Tokenizer> load(const std::string& name) {
    auto file = gguf::File::open(testing::testdata_path("tokenizer/ggml-vocab-" + name + ".gguf"));
    return Tokenizer::from_gguf(*file);
}

#define REQUIRE_VOCAB(name) LOKAL_REQUIRE_TESTDATA("tokenizer/ggml-vocab-" name ".gguf")

const char* const kSamples[] = {
    "Hello world",
    " Hello, world!\n\n  indented\tand tabbed   ",
    // NOLINTNEXTLINE(bugprone-suspicious-missing-comma)
    "Führer нещо на Български 我想在apple工作1314151天～ "
    "🦙🚀😶‍🌫️",
    "int main() { return 0; }\r\n",
    "3333333 ' era y'all! How are you?",
};

TEST(Tokenizer, LlamaBpeSpecialTokensParsedOnlyWhenAsked) {
    REQUIRE_VOCAB("llama-bpe");
    auto tok = load("llama-bpe");
    const int32_t eot = tok->find_token("<|eot_id|>").value();
    EXPECT_EQ(tok->eot(), eot);
    EXPECT_TRUE(tok->is_eog(eot));
    EXPECT_TRUE(tok->is_eog(tok->eos()));
    EXPECT_TRUE(tok->is_control(eot));
    EXPECT_FALSE(tok->is_eog(tok->find_token("Hello").value()));

    const std::vector<int32_t> parsed = tok->encode("Hi<|eot_id|>", false, true);
    ASSERT_EQ(parsed.size(), 2u);
    EXPECT_EQ(parsed[1], eot);
    const std::vector<int32_t> plain = tok->encode("Hi<|eot_id|>", false, false);
    EXPECT_GT(plain.size(), 3u);
    EXPECT_EQ(std::count(plain.begin(), plain.end(), eot), 0);
    EXPECT_EQ(tok->decode(plain), "Hi<|eot_id|>");
    // Control tokens render only when asked.
    EXPECT_EQ(tok->decode(parsed), "Hi");
    EXPECT_EQ(tok->decode(parsed, true), "Hi<|eot_id|>");
}

// Phi-3's vocabulary calls "</s>" user-defined; as an end-of-generation text it is a control
// token (as llama.cpp makes it), so "</s>" typed by a user stays text unless specials are parsed.
TEST(Tokenizer, EndOfGenerationTextsAreControlTokensEvenWhenUserDefined) {
    REQUIRE_VOCAB("phi-3");
    auto tok = load("phi-3");
    const int32_t end_s = tok->find_token("</s>").value();
    EXPECT_TRUE(tok->is_control(end_s));
    EXPECT_TRUE(tok->is_eog(end_s));
    const std::vector<int32_t> plain = tok->encode("a</s>b", false, false);
    EXPECT_EQ(std::count(plain.begin(), plain.end(), end_s), 0);
    EXPECT_EQ(tok->decode(plain), "a</s>b");
    const std::vector<int32_t> parsed = tok->encode("a</s>b", false, true);
    EXPECT_EQ(std::count(parsed.begin(), parsed.end(), end_s), 1);
}

TEST(Tokenizer, AddSpecialFollowsTheVocabulary) {
    REQUIRE_VOCAB("llama-bpe");
    REQUIRE_VOCAB("llama-spm");
    REQUIRE_VOCAB("qwen2");
    REQUIRE_VOCAB("bert-bge");
    auto bpe = load("llama-bpe");
    EXPECT_TRUE(bpe->add_bos());
    EXPECT_EQ(bpe->encode("Hello", true, false),
              (std::vector<int32_t>{bpe->bos(), bpe->find_token("Hello").value()}));
    EXPECT_EQ(bpe->encode("", true, false), (std::vector<int32_t>{bpe->bos()}));

    auto spm = load("llama-spm");
    EXPECT_EQ(spm->bos(), 1);
    EXPECT_EQ(spm->eos(), 2);
    EXPECT_EQ(spm->encode("Hello", true, false),
              (std::vector<int32_t>{1, spm->find_token("\xE2\x96\x81Hello").value()}));
    EXPECT_EQ(spm->decode(spm->encode("Hello world", true, false)), "Hello world");

    auto qwen = load("qwen2");
    EXPECT_FALSE(qwen->add_bos());
    EXPECT_EQ(qwen->encode("Hello", true, false), qwen->encode("Hello", false, false));
    EXPECT_TRUE(qwen->is_eog(qwen->find_token("<|im_end|>").value()));

    auto bert = load("bert-bge");
    const std::vector<int32_t> ids = bert->encode("Hello world", true, false);
    ASSERT_EQ(ids.size(), 4u);
    EXPECT_EQ(ids.front(), 101);  // [CLS]
    EXPECT_EQ(ids.back(), 102);   // [SEP]
    EXPECT_EQ(bert->decode(ids), " hello world");
}

TEST(Tokenizer, PairsForCrossEncoders) {
    REQUIRE_VOCAB("bert-bge");
    const auto tok = load("bert-bge");
    const auto a = tok->encode("what is a cat", false, false);
    const auto b = tok->encode("the cat sat", false, false);
    std::vector<int32_t> want = {101};  // [CLS] a [SEP] b [SEP]
    want.insert(want.end(), a.begin(), a.end());
    want.push_back(102);
    want.insert(want.end(), b.begin(), b.end());
    want.push_back(102);
    EXPECT_EQ(tok->encode_pair("what is a cat", "the cat sat"), want);
}

TEST(Tokenizer, SpmSpecialTokensAndSpacePrefix) {
    REQUIRE_VOCAB("phi-3");
    auto tok = load("phi-3");
    const int32_t end = tok->find_token("<|end|>").value();
    EXPECT_TRUE(tok->is_eog(end));
    const std::vector<int32_t> ids = tok->encode("<|user|>\nHi<|end|>", false, true);
    EXPECT_EQ(ids.front(), tok->find_token("<|user|>").value());
    EXPECT_EQ(ids.back(), end);
    EXPECT_EQ(std::count(ids.begin(), ids.end(), end), 1);
    const std::vector<int32_t> plain = tok->encode("Hi<|end|>", false, false);
    EXPECT_EQ(std::count(plain.begin(), plain.end(), end), 0);
}

TEST(Tokenizer, VocabsWithoutVectorsLoadAndRoundTrip) {
    REQUIRE_VOCAB("baichuan");
    REQUIRE_VOCAB("gpt-neox");
    auto baichuan = load("baichuan");
    EXPECT_EQ(baichuan->model(), "llama");
    EXPECT_EQ(baichuan->n_vocab(), 64000);
    auto neox = load("gpt-neox");
    EXPECT_EQ(neox->model(), "gpt2");
    EXPECT_EQ(neox->pre(), "");
    for (const char* text : kSamples) {
        EXPECT_EQ(baichuan->decode(baichuan->encode(text, false, false)), text);
        EXPECT_EQ(neox->decode(neox->encode(text, false, false)), text);
        EXPECT_FALSE(baichuan->encode(text, false, false).empty());
    }
}

TEST(Tokenizer, TokenToPieceMapsBytesAndSpaces) {
    REQUIRE_VOCAB("llama-spm");
    REQUIRE_VOCAB("gpt-2");
    auto spm = load("llama-spm");
    EXPECT_EQ(spm->token_to_piece(spm->find_token("<0x0A>").value()), "\n");
    EXPECT_EQ(spm->token_to_piece(spm->find_token("\xE2\x96\x81Hello").value()), " Hello");
    EXPECT_EQ(spm->token_to_piece(spm->bos(), true), "<s>");
    EXPECT_EQ(spm->token_to_piece(spm->bos(), false), "");
    EXPECT_EQ(spm->token_to_piece(-1), "");
    EXPECT_EQ(spm->token_to_piece(spm->n_vocab()), "");
    auto gpt2 = load("gpt-2");
    EXPECT_EQ(gpt2->token_to_piece(gpt2->find_token("\xC4\xA0world").value()), " world");
}

TEST(StreamDecoder, HoldsBackAPartialCharacter) {
    REQUIRE_VOCAB("llama-spm");
    auto tok = load("llama-spm");
    // 🦙 has no token in Llama 2's vocabulary: it is four byte tokens.
    const std::vector<int32_t> ids = tok->encode("a🦙b", false, false);
    std::vector<int32_t> bytes;
    for (const char* b : {"<0xF0>", "<0x9F>", "<0xA6>", "<0x99>"}) {
        bytes.push_back(tok->find_token(b).value());
    }
    ASSERT_NE(std::search(ids.begin(), ids.end(), bytes.begin(), bytes.end()), ids.end());

    StreamDecoder dec(*tok);
    std::string all;
    for (size_t i = 0; i < ids.size(); ++i) {
        const std::string piece = dec.push(ids[i]);
        // Every chunk handed out is valid UTF-8 on its own.
        EXPECT_EQ(utf8_complete_prefix(piece), piece.size()) << "token " << i;
        all += piece;
    }
    all += dec.flush();
    EXPECT_EQ(all, " a🦙b");

    StreamDecoder d2(*tok);
    EXPECT_EQ(d2.push(bytes[0]), "");
    EXPECT_EQ(d2.push(bytes[1]), "");
    EXPECT_EQ(d2.push(bytes[2]), "");
    EXPECT_EQ(d2.push(bytes[3]), "🦙");
    EXPECT_EQ(d2.push(bytes[0]), "");
    EXPECT_EQ(d2.flush(), "\xF0");  // an unfinished character is released at the end
}

// A GGUF holding only the given string metadata (for error cases).
std::vector<uint8_t> tiny_gguf(const std::vector<std::pair<std::string, std::string>>& kv,
                               bool with_tokens) {
    std::vector<uint8_t> b;
    const auto put = [&](const void* p, size_t n) {
        const auto* c = static_cast<const uint8_t*>(p);
        b.insert(b.end(), c, c + n);
    };
    const auto u32 = [&](uint32_t v) { put(&v, 4); };
    const auto u64 = [&](uint64_t v) { put(&v, 8); };
    const auto str = [&](const std::string& s) {
        u64(s.size());
        put(s.data(), s.size());
    };
    u32(0x46554747);
    u32(3);
    u64(0);
    u64(kv.size() + (with_tokens ? 1 : 0));
    for (const auto& [k, v] : kv) {
        str(k);
        u32(8);  // STRING
        str(v);
    }
    if (with_tokens) {
        str("tokenizer.ggml.tokens");
        u32(9);  // ARRAY
        u32(8);  // of STRING
        u64(3);
        for (const char* t : {"a", "b", "ab"}) str(t);
    }
    return b;
}

TEST(Tokenizer, UnsupportedModelIsAClearError) {
    const auto t5 = tiny_gguf({{"tokenizer.ggml.model", "t5"}}, true);
    auto f = gguf::File::parse(t5.data(), t5.size());
    try {
        Tokenizer::from_gguf(*f);
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("'t5'"), std::string::npos) << e.what();
    }

    const auto pre =
        tiny_gguf({{"tokenizer.ggml.model", "gpt2"}, {"tokenizer.ggml.pre", "nope"}}, true);
    auto g = gguf::File::parse(pre.data(), pre.size());
    try {
        Tokenizer::from_gguf(*g);
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("'nope'"), std::string::npos) << e.what();
    }

    const auto none = tiny_gguf({}, false);
    auto h = gguf::File::parse(none.data(), none.size());
    EXPECT_THROW(Tokenizer::from_gguf(*h), Error);
}

// Models' own vocabularies, against the ids llama.cpp gave for their reference prompts.
TEST(Tokenizer, ModelVocabulariesMatchReferencePrompts) {
    LOKAL_REQUIRE_TESTDATA("models/stories260K.gguf");
    LOKAL_REQUIRE_TESTDATA("models/tiny-llama-h64-f32.gguf");
    auto stories = gguf::File::open(testing::testdata_path("models/stories260K.gguf"));
    EXPECT_EQ(Tokenizer::from_gguf(*stories)->encode("Once upon a time", true, false),
              (std::vector<int32_t>{1, 403, 407, 261, 378}));
    auto llama = gguf::File::open(testing::testdata_path("models/tiny-llama-h64-f32.gguf"));
    EXPECT_EQ(
        Tokenizer::from_gguf(*llama)->encode("Once upon a time, there was a little", true, false),
        (std::vector<int32_t>{1, 9038, 2501, 263, 931, 29892, 727, 471, 263, 2217}));
}

TEST(Tokenizer, LongTextIsFast) {
    REQUIRE_VOCAB("llama-bpe");
    REQUIRE_VOCAB("llama-spm");
    LOKAL_REQUIRE_TESTDATA("text/war-and-peace-200k.txt");
    std::ifstream in(testing::testdata_path("text/war-and-peace-200k.txt"), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string text = ss.str();
    for (const char* name : {"llama-bpe", "llama-spm"}) {
        auto tok = load(name);
        const auto t0 = std::chrono::steady_clock::now();
        const std::vector<int32_t> ids = tok->encode(text, true, false);
        const double s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::printf("%s: %zu bytes -> %zu tokens in %.3f s\n", name, text.size(), ids.size(), s);
        EXPECT_LT(s, 2.0) << name;  // well under a second in a release build
        EXPECT_GT(ids.size(), text.size() / 8);
        EXPECT_EQ(tok->decode(ids), text);
    }
}

}  // namespace
}  // namespace lokal::tokenizer
