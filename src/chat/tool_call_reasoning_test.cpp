// Reasoning blocks, whitespace, and streaming behaviour of OutputParser.
#include <gtest/gtest.h>

#include <random>

#include "base/error.h"
#include "chat/tool_call_parser.h"
#include "chat/tool_call_test_util.h"

namespace lokal::chat {
namespace {

using testing::Config;
using testing::parse_all_ways;

const char* kThinkThenCall =
    "<think>\nThe user wants the weather. Maybe <tool_call>{\"name\": \"x\", \"arguments\": "
    "{}}</tool_call> later.\n</think>\n\n<tool_call>\n{\"name\": \"get_weather\", "
    "\"arguments\": {\"city\": \"Paris\"}}\n</tool_call>";

TEST(ToolCallReasoning, SeparateReasoningAndCallsNotParsedInsideIt) {
    const ParsedMessage m = parse_all_ways(kThinkThenCall, ToolFormat::Hermes);
    EXPECT_EQ(m.reasoning,
              "The user wants the weather. Maybe <tool_call>{\"name\": \"x\", \"arguments\": "
              "{}}</tool_call> later.");
    EXPECT_EQ(m.content, "");
    ASSERT_EQ(m.tool_calls.size(), 1u);
    EXPECT_EQ(m.tool_calls[0].name, "get_weather");
}

TEST(ToolCallReasoning, InlineKeepsThinkingVerbatimInContent) {
    const ParsedMessage m =
        parse_all_ways(kThinkThenCall, ToolFormat::Hermes, {.reasoning = ReasoningMode::Inline});
    EXPECT_EQ(m.reasoning, "");
    EXPECT_EQ(m.content,
              "<think>\nThe user wants the weather. Maybe <tool_call>{\"name\": \"x\", "
              "\"arguments\": {}}</tool_call> later.\n</think>");
    ASSERT_EQ(m.tool_calls.size(), 1u);  // the call after the block still counts
}

TEST(ToolCallReasoning, StripDropsThinking) {
    const ParsedMessage m =
        parse_all_ways("<think>secret</think>\n\nThe answer is 4.", ToolFormat::Generic,
                       {.reasoning = ReasoningMode::Strip});
    EXPECT_EQ(m.reasoning, "");
    EXPECT_EQ(m.content, "The answer is 4.");
}

TEST(ToolCallReasoning, StartsInReasoningLikeR1) {
    const char* text = "Okay, 2+2.\nIt is 4.\n</think>\n\nThe answer is **4**.";
    const ParsedMessage m =
        parse_all_ways(text, ToolFormat::DeepSeek, {.starts_in_reasoning = true});
    EXPECT_EQ(m.reasoning, "Okay, 2+2.\nIt is 4.");
    EXPECT_EQ(m.content, "The answer is **4**.");

    const ParsedMessage inl =
        parse_all_ways(text, ToolFormat::DeepSeek,
                       {.reasoning = ReasoningMode::Inline, .starts_in_reasoning = true});
    EXPECT_EQ(inl.content, text);
}

TEST(ToolCallReasoning, UnterminatedReasoningStaysReasoning) {
    const ParsedMessage m = parse_all_ways("<think>still thinking about it", ToolFormat::Hermes);
    EXPECT_EQ(m.reasoning, "still thinking about it");
    EXPECT_EQ(m.content, "");
}

TEST(ToolCallReasoning, ThinkTagOnlyAtTheStart) {
    const char* text = "Use <think> tags to think.";
    const ParsedMessage m = parse_all_ways(text, ToolFormat::Hermes);
    EXPECT_EQ(m.content, text);
    EXPECT_EQ(m.reasoning, "");
}

TEST(ToolCallReasoning, ReasoningWithoutTools) {
    const ParsedMessage m = parse_all_ways(
        "<think>hmm</think>Answer: <tool_call>{\"name\": \"f\", \"arguments\": {}}</tool_call>",
        ToolFormat::Hermes, {.tools = false});
    EXPECT_EQ(m.reasoning, "hmm");
    EXPECT_EQ(m.content, "Answer: <tool_call>{\"name\": \"f\", \"arguments\": {}}</tool_call>");
    EXPECT_TRUE(m.tool_calls.empty());
}

TEST(ToolCallReasoning, JsonCallAfterReasoningIsAtCallPosition) {
    const ParsedMessage m =
        parse_all_ways("<think>call it</think>\n{\"name\": \"f\", \"parameters\": {\"a\": \"b\"}}",
                       ToolFormat::Llama3);
    EXPECT_EQ(m.reasoning, "call it");
    ASSERT_EQ(m.tool_calls.size(), 1u);
    EXPECT_EQ(m.tool_calls[0].arguments, R"({"a":"b"})");
}

TEST(ToolCallStreaming, PlainTextIsReleasedImmediately) {
    OutputParser p(ToolFormat::Hermes, testing::options());
    EXPECT_EQ(p.feed("Hello").content, "Hello");
    EXPECT_EQ(p.feed(" wor").content, " wor");
    EXPECT_EQ(p.feed("ld <").content, "ld");  // " <" may start <tool_call>
    EXPECT_EQ(p.feed("b>").content, " <b>");
    EXPECT_EQ(p.finish().content, "");
}

TEST(ToolCallStreaming, CallIsEmittedWhenComplete) {
    OutputParser p(ToolFormat::Hermes, testing::options());
    EXPECT_EQ(p.feed("Checking.\n<tool_").content, "Checking.");
    ParsedDelta d = p.feed("call>{\"name\": \"f\", \"arguments\": {\"a\"");
    EXPECT_TRUE(d.empty());
    d = p.feed(": 1}}</tool_call>");
    ASSERT_EQ(d.tool_calls.size(), 1u);
    EXPECT_EQ(d.tool_calls[0].arguments, R"({"a":1})");
    EXPECT_EQ(d.content, "");
    EXPECT_TRUE(p.finish().empty());
}

TEST(ToolCallStreaming, HeldMarkerPrefixIsReleasedAtTheEnd) {
    OutputParser p(ToolFormat::Mistral, testing::options());
    EXPECT_EQ(p.feed("see [TOOL").content, "see");
    const ParsedDelta d = p.finish();
    EXPECT_EQ(d.content, " [TOOL");
    EXPECT_TRUE(d.errors.empty());
}

TEST(ToolCallStreaming, SplitUtf8IsHeldBack) {
    OutputParser p(ToolFormat::Generic, testing::options());
    const std::string llama = "🦙";
    EXPECT_EQ(p.feed("a" + llama.substr(0, 2)).content, "a");
    EXPECT_EQ(p.feed(llama.substr(2)).content, llama);
}

TEST(ToolCallStreaming, WhitespaceAroundMarkupIsTrimmedInsideKept) {
    const ParsedMessage m = parse_all_ways(
        "\n\n  Line one.\n\n  Line two.  \n<tool_call>{\"name\": \"f\", \"arguments\": {}}"
        "</tool_call>\n\nAfter.\n",
        ToolFormat::Hermes);
    EXPECT_EQ(m.content, "Line one.\n\n  Line two.\n\nAfter.");
}

TEST(ToolCallStreaming, FeedAfterFinishThrows) {
    OutputParser p(ToolFormat::Hermes, testing::options());
    p.finish();
    EXPECT_THROW(p.feed("x"), Error);
}

TEST(ToolCallStreaming, LongMixedConversationTurn) {
    std::string text = "<think>\n";
    for (int i = 0; i < 20; ++i) text += "step " + std::to_string(i) + " {brace} <tag>\n";
    text += "</think>\n\nI will call two tools — ñ, 日本語.\n";
    text +=
        "<tool_call>\n{\"name\": \"a\", \"arguments\": {\"s\": \"</tool_call> \\\"q\\\" {\"}}\n"
        "</tool_call>\n";
    text += "<tool_call>\n<function=b>\n<parameter=x>\n1\n</parameter>\n</function>\n</tool_call>";
    const ParsedMessage m = parse_all_ways(text, ToolFormat::Hermes);
    EXPECT_EQ(m.content, "I will call two tools — ñ, 日本語.");
    ASSERT_EQ(m.tool_calls.size(), 2u);
    EXPECT_EQ(m.tool_calls[0].arguments, R"({"s":"</tool_call> \"q\" {"})");
    EXPECT_EQ(m.tool_calls[1].arguments, R"({"x":1})");
    EXPECT_TRUE(m.reasoning.starts_with("step 0 {brace} <tag>\nstep 1"));
    EXPECT_TRUE(m.reasoning.ends_with("step 19 {brace} <tag>"));
}

// Random soups of marker pieces, JSON punctuation and text: whatever the parser makes of them,
// streaming in any split must agree with the one-shot parse (this is what keeps markup from
// leaking), and nothing may crash.
TEST(ToolCallStreaming, RandomMarkupSoupStreamsConsistently) {
    const std::vector<std::string> pieces = {"<tool_call>",
                                             "</tool_call>",
                                             "<think>",
                                             "</think>",
                                             "[TOOL_CALLS]",
                                             "[ARGS]",
                                             ">>>",
                                             "<function=",
                                             "</function>",
                                             "<|python_tag|>",
                                             "```tool_code",
                                             "```json",
                                             "```",
                                             "{",
                                             "}",
                                             "[",
                                             "]",
                                             "\"",
                                             "\\",
                                             ":",
                                             ",",
                                             ";",
                                             "\n",
                                             " ",
                                             "name",
                                             "\"name\": \"f\"",
                                             "\"arguments\": {}",
                                             "\"parameters\"",
                                             "f(a=1)",
                                             "all\n",
                                             "x",
                                             "é",
                                             "🦙",
                                             "<｜tool▁call▁begin｜>",
                                             "<｜tool▁sep｜>",
                                             "<｜tool▁call▁end｜>",
                                             "[THINK]",
                                             "[/THINK]"};
    std::mt19937 rng(42);
    for (ToolFormat f : {ToolFormat::Generic, ToolFormat::Llama3, ToolFormat::Hermes,
                         ToolFormat::Mistral, ToolFormat::FunctionaryV32,
                         ToolFormat::FunctionaryV31, ToolFormat::DeepSeek, ToolFormat::Gemma}) {
        for (int n = 0; n < 40; ++n) {
            std::string text;
            const int len = 1 + static_cast<int>(rng() % 14);
            for (int k = 0; k < len; ++k) text += pieces[rng() % pieces.size()];
            const Config c{.tools = rng() % 4 != 0,
                           .reasoning = static_cast<ReasoningMode>(rng() % 3),
                           .starts_in_reasoning = rng() % 5 == 0};
            parse_all_ways(text, f, c);
            if (::testing::Test::HasFailure()) {
                FAIL() << tool_format_name(f) << " failed on: " << text;
            }
        }
    }
}

}  // namespace
}  // namespace lokal::chat
