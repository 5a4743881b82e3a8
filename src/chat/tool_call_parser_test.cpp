// Tool-call formats, each text checked one-shot and streamed in every split.
#include "chat/tool_call_parser.h"

#include <gtest/gtest.h>

#include "chat/tool_call_test_util.h"

namespace lokal::chat {
namespace {

using testing::Config;
using testing::parse_all_ways;

const std::string kWeatherArgs = R"({"city":"Paris","unit":"celsius"})";

ToolCall call(std::string id, std::string name, std::string args) {
    return ToolCall{std::move(id), std::move(name), std::move(args)};
}

// --- Llama 3.x ---

TEST(ToolCallLlama3, BareJsonWithParameters) {
    // As Llama 3.1/3.2 write it (testdata tools.out).
    const ParsedMessage m = parse_all_ways(
        R"({"name": "get_weather", "parameters": {"city": "Paris", "unit": "celsius"}})",
        ToolFormat::Llama3);
    EXPECT_EQ(m.content, "");
    ASSERT_EQ(m.tool_calls.size(), 1u);
    EXPECT_EQ(m.tool_calls[0], call("call_1", "get_weather", kWeatherArgs));
    EXPECT_TRUE(m.errors.empty());
}

TEST(ToolCallLlama3, PythonTagWithArgumentsAfterContent) {
    const ParsedMessage m = parse_all_ways(
        "Let me check.\n<|python_tag|>{\"name\": \"get_weather\", \"arguments\": {\"city\": "
        "\"Paris\"}}",
        ToolFormat::Llama3);
    EXPECT_EQ(m.content, "Let me check.");
    ASSERT_EQ(m.tool_calls.size(), 1u);
    EXPECT_EQ(m.tool_calls[0].name, "get_weather");
    EXPECT_EQ(m.tool_calls[0].arguments, R"({"city":"Paris"})");
}

TEST(ToolCallLlama3, SeveralCallsSeparatedBySemicolons) {
    const ParsedMessage m =
        parse_all_ways(R"({"name": "a", "parameters": {"x": 1}}; {"name": "b", "parameters": {}})"
                       "\n",
                       ToolFormat::Llama3);
    ASSERT_EQ(m.tool_calls.size(), 2u);
    EXPECT_EQ(m.tool_calls[0], call("call_1", "a", R"({"x":1})"));
    EXPECT_EQ(m.tool_calls[1], call("call_2", "b", "{}"));
    EXPECT_EQ(m.content, "");
}

TEST(ToolCallLlama3, BuiltinToolCallAfterPythonTag) {
    const ParsedMessage m = parse_all_ways(
        "<|python_tag|>brave_search.call(query=\"weather in Paris\")", ToolFormat::Llama3);
    ASSERT_EQ(m.tool_calls.size(), 1u);
    EXPECT_EQ(m.tool_calls[0].name, "brave_search");
    EXPECT_EQ(m.tool_calls[0].arguments, R"({"query":"weather in Paris"})");
}

TEST(ToolCallLlama3, PythonicListAtTheStart) {
    // Llama 3.2 when prompted for Python-style calls.
    const ParsedMessage m = parse_all_ways(
        R"([get_weather(city="Paris", unit="celsius"), get_time(tz='Europe/Paris')])",
        ToolFormat::Llama3);
    ASSERT_EQ(m.tool_calls.size(), 2u);
    EXPECT_EQ(m.tool_calls[0], call("call_1", "get_weather", kWeatherArgs));
    EXPECT_EQ(m.tool_calls[1].arguments, R"({"tz":"Europe/Paris"})");
    EXPECT_EQ(m.content, "");
    const char* note = "[Note] (see below) [x]";
    EXPECT_EQ(parse_all_ways(note, ToolFormat::Llama3).content, note);
}

TEST(ToolCallLlama3, JsonThatIsNotACallIsContent) {
    for (const char* text : {R"({"answer": 42, "note": "{not a call}"})", R"({"name": "Bob"})",
                             "[1, 2, 3]", "{broken json", "{\"a\": 1]"}) {
        const ParsedMessage m = parse_all_ways(text, ToolFormat::Llama3);
        EXPECT_EQ(m.content, text);
        EXPECT_TRUE(m.tool_calls.empty()) << text;
        EXPECT_TRUE(m.errors.empty()) << text;
    }
}

TEST(ToolCallLlama3, JsonCallOnlyAtTheStart) {
    const char* text = R"(Example: {"name": "f", "parameters": {}} is how you call f.)";
    const ParsedMessage m = parse_all_ways(text, ToolFormat::Llama3);
    EXPECT_EQ(m.content, text);
    EXPECT_TRUE(m.tool_calls.empty());
}

TEST(ToolCallLlama3, ArgumentsGivenAsJsonString) {
    const ParsedMessage m = parse_all_ways(
        R"({"name": "f", "arguments": "{\"a\": [1, {\"b\": null}]}"})", ToolFormat::Llama3);
    ASSERT_EQ(m.tool_calls.size(), 1u);
    EXPECT_EQ(m.tool_calls[0].arguments, R"({"a":[1,{"b":null}]})");
}

TEST(ToolCallLlama3, MalformedCallAfterPythonTagBecomesContentWithError) {
    const std::string text = R"(<|python_tag|>{"name": "f", "parameters": {"a": }})";
    const ParsedMessage m = parse_all_ways(text, ToolFormat::Llama3);
    EXPECT_EQ(m.content, text);
    EXPECT_TRUE(m.tool_calls.empty());
    EXPECT_EQ(m.errors.size(), 1u);
}

// --- Hermes / Qwen ---

TEST(ToolCallHermes, CallAsInTestdata) {
    const ParsedMessage m = parse_all_ways(
        "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"unit\": "
        "\"celsius\"}}\n</tool_call>",
        ToolFormat::Hermes);
    EXPECT_EQ(m.content, "");
    ASSERT_EQ(m.tool_calls.size(), 1u);
    EXPECT_EQ(m.tool_calls[0], call("call_1", "get_weather", kWeatherArgs));
}

TEST(ToolCallHermes, SeveralCallsAfterContent) {
    const ParsedMessage m = parse_all_ways(
        "I'll look both up.\n\n<tool_call>\n{\"name\": \"a\", \"arguments\": {\"q\": 1}}\n"
        "</tool_call>\n<tool_call>\n{\"name\": \"b\", \"arguments\": {\"q\": 2}}\n</tool_call>",
        ToolFormat::Hermes);
    EXPECT_EQ(m.content, "I'll look both up.");
    ASSERT_EQ(m.tool_calls.size(), 2u);
    EXPECT_EQ(m.tool_calls[0], call("call_1", "a", R"({"q":1})"));
    EXPECT_EQ(m.tool_calls[1], call("call_2", "b", R"({"q":2})"));
}

TEST(ToolCallHermes, BracesAndTagsInsideStrings) {
    const ParsedMessage m = parse_all_ways(
        R"(<tool_call>{"name": "run", "arguments": {"code": "if (x) { return \"}</tool_call>\"; }"}}</tool_call>)",
        ToolFormat::Hermes);
    ASSERT_EQ(m.tool_calls.size(), 1u);
    EXPECT_EQ(m.tool_calls[0].arguments, R"({"code":"if (x) { return \"}</tool_call>\"; }"})");
    EXPECT_EQ(m.content, "");
}

TEST(ToolCallHermes, UnicodeArgumentsAndContent) {
    const ParsedMessage m = parse_all_ways(
        "Wetter für Zürich 🦙:<tool_call>{\"name\": \"get_weather\", \"arguments\": {\"city\": "
        "\"Zürich 🦙\", \"esc\": \"\\u00e9\"}}</tool_call>",
        ToolFormat::Hermes);
    EXPECT_EQ(m.content, "Wetter für Zürich 🦙:");
    ASSERT_EQ(m.tool_calls.size(), 1u);
    EXPECT_EQ(m.tool_calls[0].arguments, "{\"city\":\"Zürich 🦙\",\"esc\":\"é\"}");
}

TEST(ToolCallHermes, QwenCoderXmlParameters) {
    // As Qwen3-Coder and Qwen3.5 write it (testdata tools.out).
    const ParsedMessage m = parse_all_ways(
        "<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n"
        "<parameter=unit>\ncelsius\n</parameter>\n<parameter=days>\n3\n</parameter>\n"
        "<parameter=opts>\n{\"a\": [1]}\n</parameter>\n</function>\n</tool_call>",
        ToolFormat::Hermes);
    ASSERT_EQ(m.tool_calls.size(), 1u);
    EXPECT_EQ(m.tool_calls[0].name, "get_weather");
    EXPECT_EQ(m.tool_calls[0].arguments,
              R"({"city":"Paris","unit":"celsius","days":3,"opts":{"a":[1]}})");
    EXPECT_EQ(m.content, "");
}

TEST(ToolCallHermes, MissingCloseTagAtEndStillCounts) {
    // The model stopped (end-of-turn token) right after the JSON.
    const ParsedMessage m =
        parse_all_ways("<tool_call>\n{\"name\": \"f\", \"arguments\": {}}\n", ToolFormat::Hermes);
    ASSERT_EQ(m.tool_calls.size(), 1u);
    EXPECT_EQ(m.content, "");
    EXPECT_TRUE(m.errors.empty());
}

TEST(ToolCallHermes, MalformedJsonBecomesContentWithError) {
    const std::string bad =
        "<tool_call>\n{\"name\": \"f\", \"arguments\": {\"a\": 1}\n</tool_call>";  // one } short
    const ParsedMessage m = parse_all_ways(bad, ToolFormat::Hermes);
    EXPECT_TRUE(m.tool_calls.empty());
    EXPECT_EQ(m.content, bad);
    EXPECT_EQ(m.errors.size(), 1u);

    const std::string not_call = "<tool_call>{\"foo\": 1}</tool_call> then text";
    const ParsedMessage n = parse_all_ways(not_call, ToolFormat::Hermes);
    EXPECT_TRUE(n.tool_calls.empty());
    EXPECT_EQ(n.content, not_call);
    EXPECT_EQ(n.errors.size(), 1u);
}

TEST(ToolCallHermes, GoodCallAfterBrokenOne) {
    const ParsedMessage m = parse_all_ways(
        "<tool_call>{\"name\": \"f\", \"arguments\": 5}</tool_call>"
        "<tool_call>{\"name\": \"g\", \"arguments\": {}}</tool_call>",
        ToolFormat::Hermes);
    ASSERT_EQ(m.tool_calls.size(), 1u);
    EXPECT_EQ(m.tool_calls[0].name, "g");
    EXPECT_EQ(m.content, "<tool_call>{\"name\": \"f\", \"arguments\": 5}</tool_call>");
}

TEST(ToolCallHermes, TagMentionedInProseIsContent) {
    const std::string text = "Wrap calls in <tool_call> tags, and <tool_ca is not one.";
    const ParsedMessage m = parse_all_ways(text, ToolFormat::Hermes);
    EXPECT_EQ(m.content, text);
    EXPECT_TRUE(m.tool_calls.empty());
}

TEST(ToolCallHermes, ModelIdIsKept) {
    const ParsedMessage m = parse_all_ways(
        R"(<tool_call>{"id": "abc123def", "name": "f", "arguments": {}}</tool_call>)",
        ToolFormat::Hermes);
    ASSERT_EQ(m.tool_calls.size(), 1u);
    EXPECT_EQ(m.tool_calls[0].id, "abc123def");
}

// --- Mistral ---

TEST(ToolCallMistral, JsonArrayWithIds) {
    const ParsedMessage m = parse_all_ways(
        R"([TOOL_CALLS][{"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}, "id": "abc123def"}, {"name": "b", "arguments": {}}])",
        ToolFormat::Mistral);
    ASSERT_EQ(m.tool_calls.size(), 2u);
    EXPECT_EQ(m.tool_calls[0], call("abc123def", "get_weather", kWeatherArgs));
    EXPECT_EQ(m.tool_calls[1], call("call_1", "b", "{}"));
    EXPECT_EQ(m.content, "");
}

TEST(ToolCallMistral, NameArgsFormAsInTestdata) {
    // Devstral (testdata tools.out); two calls in a row, after some content.
    const ParsedMessage m = parse_all_ways(
        "Checking.[TOOL_CALLS]get_weather[ARGS]{\"city\": \"Paris\", \"unit\": \"celsius\"}"
        "[TOOL_CALLS]get_time[CALL_ID]x1y2z3w4v[ARGS]{}",
        ToolFormat::Mistral);
    EXPECT_EQ(m.content, "Checking.");
    ASSERT_EQ(m.tool_calls.size(), 2u);
    EXPECT_EQ(m.tool_calls[0], call("call_1", "get_weather", kWeatherArgs));
    EXPECT_EQ(m.tool_calls[1], call("x1y2z3w4v", "get_time", "{}"));
}

TEST(ToolCallMistral, ThinkBlocks) {
    const ParsedMessage m = parse_all_ways(
        "[THINK]The user wants weather.[/THINK]\n[TOOL_CALLS]get_weather[ARGS]{\"city\": "
        "\"Paris\"}",
        ToolFormat::Mistral);
    EXPECT_EQ(m.reasoning, "The user wants weather.");
    EXPECT_EQ(m.content, "");
    ASSERT_EQ(m.tool_calls.size(), 1u);
}

TEST(ToolCallMistral, GarbageAfterMarkerIsContentWithError) {
    const std::string text = "[TOOL_CALLS] sorry, no tool fits.";
    const ParsedMessage m = parse_all_ways(text, ToolFormat::Mistral);
    EXPECT_EQ(m.content, text);
    EXPECT_TRUE(m.tool_calls.empty());
    EXPECT_EQ(m.errors.size(), 1u);
}

// --- Functionary ---

TEST(ToolCallFunctionary, V32RecipientLines) {
    // The prompt ends with ">>>": the output starts with the recipient.
    const ParsedMessage m = parse_all_ways(
        "all\nLet me check that.\n>>>get_weather\n{\"city\": \"Paris\", \"unit\": \"celsius\"}"
        ">>>get_time\n{}",
        ToolFormat::FunctionaryV32);
    EXPECT_EQ(m.content, "Let me check that.");
    ASSERT_EQ(m.tool_calls.size(), 2u);
    EXPECT_EQ(m.tool_calls[0], call("call_1", "get_weather", kWeatherArgs));
    EXPECT_EQ(m.tool_calls[1], call("call_2", "get_time", "{}"));
}

TEST(ToolCallFunctionary, V32PlainAnswersAndPromptArrows) {
    EXPECT_EQ(parse_all_ways("all\nHi there!", ToolFormat::FunctionaryV32).content, "Hi there!");
    EXPECT_EQ(parse_all_ways("Hello there", ToolFormat::FunctionaryV32).content, "Hello there");
    const ParsedMessage m =
        parse_all_ways("all\nIn Python:\n>>> print(1)\n1", ToolFormat::FunctionaryV32);
    EXPECT_EQ(m.content, "In Python:\n>>> print(1)\n1");
    EXPECT_TRUE(m.tool_calls.empty());
    // Without tools the call stays text, but the recipient line is still not content.
    const ParsedMessage n = parse_all_ways("all\nHi", ToolFormat::FunctionaryV32, {.tools = false});
    EXPECT_EQ(n.content, "Hi");
}

TEST(ToolCallFunctionary, V31FunctionTags) {
    const ParsedMessage m = parse_all_ways(
        "Sure. <function=get_weather>{\"city\": \"Paris\", \"unit\": \"celsius\"}</function>",
        ToolFormat::FunctionaryV31);
    EXPECT_EQ(m.content, "Sure.");
    ASSERT_EQ(m.tool_calls.size(), 1u);
    EXPECT_EQ(m.tool_calls[0], call("call_1", "get_weather", kWeatherArgs));
}

TEST(ToolCallFunctionary, V31BrokenTagIsContent) {
    const std::string text = "<function=get weather>{}</function>";
    const ParsedMessage m = parse_all_ways(text, ToolFormat::FunctionaryV31);
    EXPECT_EQ(m.content, text);
    EXPECT_TRUE(m.tool_calls.empty());
    EXPECT_FALSE(m.errors.empty());
}

// --- DeepSeek ---

TEST(ToolCallDeepSeek, R1FencedArgumentsAsInTestdata) {
    const ParsedMessage m = parse_all_ways(
        "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n"
        "{\"city\": \"Paris\", \"unit\": \"celsius\"}\n```<｜tool▁call▁end｜>"
        "<｜tool▁call▁begin｜>function<｜tool▁sep｜>get_time\n```json\n{}\n```<｜tool▁call▁end｜>"
        "<｜tool▁calls▁end｜>",
        ToolFormat::DeepSeek);
    EXPECT_EQ(m.content, "");
    ASSERT_EQ(m.tool_calls.size(), 2u);
    EXPECT_EQ(m.tool_calls[0], call("call_1", "get_weather", kWeatherArgs));
    EXPECT_EQ(m.tool_calls[1], call("call_2", "get_time", "{}"));
}

TEST(ToolCallDeepSeek, V31FormWithReasoning) {
    const ParsedMessage m = parse_all_ways(
        "I need the weather.</think>Let me look.<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>"
        "get_weather<｜tool▁sep｜>{\"city\": \"Paris\", \"unit\": \"celsius\"}<｜tool▁call▁end｜>"
        "<｜tool▁calls▁end｜>",
        ToolFormat::DeepSeek, {.starts_in_reasoning = true});
    EXPECT_EQ(m.reasoning, "I need the weather.");
    EXPECT_EQ(m.content, "Let me look.");
    ASSERT_EQ(m.tool_calls.size(), 1u);
    EXPECT_EQ(m.tool_calls[0], call("call_1", "get_weather", kWeatherArgs));
}

TEST(ToolCallDeepSeek, UnterminatedCallIsContentWithError) {
    const std::string text =
        "<｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n{\"city\": \"Par";
    const ParsedMessage m = parse_all_ways(text, ToolFormat::DeepSeek);
    EXPECT_TRUE(m.tool_calls.empty());
    EXPECT_EQ(m.content, text);
    EXPECT_EQ(m.errors.size(), 1u);
}

// --- Gemma ---

TEST(ToolCallGemma, ToolCodeBlockWithPythonCalls) {
    const ParsedMessage m = parse_all_ways(
        "I'll check.\n```tool_code\nget_weather(city=\"Paris\", unit='celsius', days=3, "
        "flags=[True, None], extra={'k': 1.5})\n```\n",
        ToolFormat::Gemma);
    EXPECT_EQ(m.content, "I'll check.");
    ASSERT_EQ(m.tool_calls.size(), 1u);
    EXPECT_EQ(m.tool_calls[0].name, "get_weather");
    EXPECT_EQ(
        m.tool_calls[0].arguments,
        R"({"city":"Paris","unit":"celsius","days":3,"flags":[true,null],"extra":{"k":1.5}})");
}

TEST(ToolCallGemma, JsonBlockBareJsonAndPythonList) {
    const ParsedMessage a = parse_all_ways(
        "```json\n{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\", \"unit\": "
        "\"celsius\"}}\n```",
        ToolFormat::Gemma);
    ASSERT_EQ(a.tool_calls.size(), 1u);
    EXPECT_EQ(a.tool_calls[0], call("call_1", "get_weather", kWeatherArgs));
    EXPECT_EQ(a.content, "");

    const ParsedMessage b = parse_all_ways(
        R"({"name": "get_weather", "parameters": {"city": "Paris", "unit": "celsius"}})",
        ToolFormat::Gemma);
    ASSERT_EQ(b.tool_calls.size(), 1u);

    const ParsedMessage c = parse_all_ways("```tool_code\n[a(x=1), b()]\n```", ToolFormat::Gemma);
    ASSERT_EQ(c.tool_calls.size(), 2u);
    EXPECT_EQ(c.tool_calls[1], call("call_2", "b", "{}"));
}

TEST(ToolCallGemma, OrdinaryCodeBlocksStayContent) {
    for (const char* text :
         {"Here:\n```json\n{\"a\": [1, 2]}\n```\nDone.", "```python\nprint('hi')\n```",
          "```tool_code\nx = 1 + 1\n```", "```jsonc\n{}\n```"}) {
        const ParsedMessage m = parse_all_ways(text, ToolFormat::Gemma);
        EXPECT_EQ(m.content, text);
        EXPECT_TRUE(m.tool_calls.empty()) << text;
        EXPECT_TRUE(m.errors.empty()) << text;
    }
}

// --- Generic ---

TEST(ToolCallGeneric, ToolCallsObjectAndSingleCall) {
    const ParsedMessage m = parse_all_ways(
        R"({"tool_calls": [{"name": "a", "arguments": {"x": "y"}}, {"type": "function", "function": {"name": "b", "arguments": "{\"n\": 1}"}}]})",
        ToolFormat::Generic);
    ASSERT_EQ(m.tool_calls.size(), 2u);
    EXPECT_EQ(m.tool_calls[0], call("call_1", "a", R"({"x":"y"})"));
    EXPECT_EQ(m.tool_calls[1], call("call_2", "b", R"({"n":1})"));

    const ParsedMessage s =
        parse_all_ways("  {\"name\": \"f\", \"arguments\": {\"k\": \"v\"}}  ", ToolFormat::Generic);
    ASSERT_EQ(s.tool_calls.size(), 1u);
    EXPECT_EQ(s.content, "");
}

TEST(ToolCallGeneric, PlainTextAndOtherJsonAreContent) {
    EXPECT_EQ(parse_all_ways("Just an answer.", ToolFormat::Generic).content, "Just an answer.");
    const ParsedMessage m = parse_all_ways(R"({"tool_calls": "none"})", ToolFormat::Generic);
    EXPECT_EQ(m.content, R"({"tool_calls": "none"})");
    EXPECT_TRUE(m.tool_calls.empty());
}

// --- without tools ---

TEST(ToolCallNoTools, MarkupStaysContentInEveryFormat) {
    const std::vector<std::pair<ToolFormat, std::string>> cases = {
        {ToolFormat::Llama3, R"({"name": "f", "parameters": {}})"},
        {ToolFormat::Hermes, R"(<tool_call>{"name": "f", "arguments": {}}</tool_call>)"},
        {ToolFormat::Mistral, R"([TOOL_CALLS]f[ARGS]{})"},
        {ToolFormat::FunctionaryV31, R"(<function=f>{}</function>)"},
        {ToolFormat::Gemma, "```tool_code\nf()\n```"},
        {ToolFormat::Generic, R"({"tool_calls": [{"name": "f", "arguments": {}}]})"},
        {ToolFormat::DeepSeek, "<｜tool▁call▁begin｜>f<｜tool▁sep｜>{}<｜tool▁call▁end｜>"},
    };
    for (const auto& [format, text] : cases) {
        const ParsedMessage m = parse_all_ways(text, format, {.tools = false});
        EXPECT_EQ(m.content, text) << tool_format_name(format);
        EXPECT_TRUE(m.tool_calls.empty()) << tool_format_name(format);
    }
    const ParsedMessage v32 =
        parse_all_ways("f\n{\"a\": 1}", ToolFormat::FunctionaryV32, {.tools = false});
    EXPECT_EQ(v32.content, "f\n{\"a\": 1}");
    EXPECT_TRUE(v32.tool_calls.empty());
}

TEST(ToolCallIds, DefaultIdsAreUniqueAlnum) {
    ParserOptions o;
    const ParsedMessage m = parse_output(
        R"(<tool_call>{"name": "a", "arguments": {}}</tool_call><tool_call>{"name": "b", "arguments": {}}</tool_call>)",
        ToolFormat::Hermes, o);
    ASSERT_EQ(m.tool_calls.size(), 2u);
    for (const ToolCall& c : m.tool_calls) {
        ASSERT_TRUE(c.id.starts_with("call_")) << c.id;
        EXPECT_EQ(c.id.size(), 29u);
        for (char ch : c.id.substr(5)) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(ch)));
    }
    EXPECT_NE(m.tool_calls[0].id, m.tool_calls[1].id);
}

}  // namespace
}  // namespace lokal::chat
