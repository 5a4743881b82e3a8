// Test helpers for the output parser: deterministic ids, and a check that streaming the text in
// any split gives the one-shot result without ever emitting something it later takes back.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "chat/tool_call_parser.h"

namespace lokal::chat::testing {

struct Config {
    bool tools = true;
    ReasoningMode reasoning = ReasoningMode::Separate;
    bool starts_in_reasoning = false;
};

// Fresh options with ids call_1, call_2, ... per parser.
inline ParserOptions options(const Config& c = {}) {
    ParserOptions o;
    o.tools = c.tools;
    o.reasoning = c.reasoning;
    o.starts_in_reasoning = c.starts_in_reasoning;
    auto counter = std::make_shared<int>(0);
    o.make_id = [counter] { return "call_" + std::to_string(++*counter); };
    return o;
}

inline ParsedMessage parse(std::string_view text, ToolFormat f, const Config& c = {}) {
    return parse_output(text, f, options(c));
}

inline bool valid_utf8(std::string_view s) {
    size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        size_t n = c < 0x80             ? 1
                   : (c & 0xE0) == 0xC0 ? 2
                   : (c & 0xF0) == 0xE0 ? 3
                   : (c & 0xF8) == 0xF0 ? 4
                                        : 0;
        if (n == 0 || i + n > s.size()) return false;
        for (size_t k = 1; k < n; ++k) {
            if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
        }
        i += n;
    }
    return true;
}

inline std::string describe(const ParsedMessage& m) {
    std::string s = "content=[" + m.content + "] reasoning=[" + m.reasoning + "] calls=";
    for (const ToolCall& c : m.tool_calls) s += "{" + c.id + " " + c.name + " " + c.arguments + "}";
    s += " errors=" + std::to_string(m.errors.size());
    return s;
}

inline bool same(const ParsedMessage& a, const ParsedMessage& b) {
    return a.content == b.content && a.reasoning == b.reasoning && a.tool_calls == b.tool_calls &&
           a.errors == b.errors;
}

// Feeds `pieces` one by one, checking after each that what was emitted so far is a prefix of
// the one-shot result (nothing is ever taken back, so no markup reached content early) and that
// every delta is whole UTF-8 (when the input is); then compares the final result.
inline ::testing::AssertionResult stream_matches(const std::vector<std::string_view>& pieces,
                                                 ToolFormat f, const Config& c,
                                                 const ParsedMessage& expected, bool utf8) {
    OutputParser parser(f, options(c));
    ParsedMessage got;
    auto check = [&](ParsedDelta&& d, size_t step) -> ::testing::AssertionResult {
        if (utf8 && (!valid_utf8(d.content) || !valid_utf8(d.reasoning))) {
            return ::testing::AssertionFailure() << "delta splits UTF-8 at piece " << step;
        }
        got.append(std::move(d));
        const bool prefix =
            expected.content.starts_with(got.content) &&
            expected.reasoning.starts_with(got.reasoning) &&
            got.tool_calls.size() <= expected.tool_calls.size() &&
            std::equal(got.tool_calls.begin(), got.tool_calls.end(), expected.tool_calls.begin());
        if (!prefix) {
            return ::testing::AssertionFailure()
                   << "after piece " << step << " emitted " << describe(got)
                   << " which is not a prefix of " << describe(expected);
        }
        return ::testing::AssertionSuccess();
    };
    for (size_t i = 0; i < pieces.size(); ++i) {
        if (auto r = check(parser.feed(pieces[i]), i); !r) return r;
    }
    if (auto r = check(parser.finish(), pieces.size()); !r) return r;
    if (!same(got, expected)) {
        return ::testing::AssertionFailure()
               << "streamed " << describe(got) << " vs one-shot " << describe(expected);
    }
    return ::testing::AssertionSuccess();
}

// One-shot parse, then the same text streamed byte by byte, split at every point into two, and
// in random chunks; all must agree. Returns the one-shot result.
inline ParsedMessage parse_all_ways(std::string_view text, ToolFormat f, const Config& c = {}) {
    const ParsedMessage expected = parse(text, f, c);
    const bool utf8 = valid_utf8(text);
    std::vector<std::string_view> bytes;
    for (size_t i = 0; i < text.size(); ++i) bytes.push_back(text.substr(i, 1));
    EXPECT_TRUE(stream_matches(bytes, f, c, expected, utf8)) << "byte by byte: " << text;
    for (size_t cut = 0; cut <= text.size(); ++cut) {
        EXPECT_TRUE(stream_matches({text.substr(0, cut), text.substr(cut)}, f, c, expected, utf8))
            << "split at " << cut << ": " << text;
    }
    std::mt19937 rng(1234);
    for (int round = 0; round < 20; ++round) {
        std::vector<std::string_view> chunks;
        size_t pos = 0;
        while (pos < text.size()) {
            const size_t n = std::min<size_t>(text.size() - pos, 1 + rng() % 7);
            chunks.push_back(text.substr(pos, n));
            pos += n;
        }
        EXPECT_TRUE(stream_matches(chunks, f, c, expected, utf8)) << "random chunks: " << text;
    }
    return expected;
}

}  // namespace lokal::chat::testing
