// The JSON and Python-style call helpers behind the output parser.
#include "chat/tool_call_json.h"

#include <gtest/gtest.h>

#include "chat/tool_call_pythonic.h"

namespace lokal::chat {
namespace {

TEST(ToolCallJson, ScanFindsTheEndOfContainers) {
    const std::string_view text = R"(x{"a": "}]\"{", "b": [1, {"c": []}]} tail)";
    const ScanResult r = scan_json_container(text, 1);
    EXPECT_EQ(r.status, ScanStatus::Complete);
    EXPECT_EQ(text.substr(1, r.end - 1), R"({"a": "}]\"{", "b": [1, {"c": []}]})");

    EXPECT_EQ(scan_json_container(R"({"a": [1, 2)", 0).status, ScanStatus::Incomplete);
    EXPECT_EQ(scan_json_container(R"({"a": "\)", 0).status, ScanStatus::Incomplete);
    EXPECT_EQ(scan_json_container(R"({"a": [1}])", 0).status, ScanStatus::Invalid);
    EXPECT_EQ(scan_json_container("abc", 0).status, ScanStatus::Invalid);
}

TEST(ToolCallJson, NormalizesArguments) {
    const OrderedJson obj = OrderedJson::parse(R"({"z": 1, "a": {"k": "ü"}})");
    EXPECT_EQ(normalize_arguments(&obj), R"({"z":1,"a":{"k":"ü"}})");  // order kept
    const OrderedJson str = "{\"x\": [1, 2]}";
    EXPECT_EQ(normalize_arguments(&str), R"({"x":[1,2]})");
    EXPECT_EQ(normalize_arguments(nullptr), "{}");
    const OrderedJson null = nullptr;
    EXPECT_EQ(normalize_arguments(&null), "{}");
    const OrderedJson num = 5;
    EXPECT_FALSE(normalize_arguments(&num));
    const OrderedJson bad_str = "not json";
    EXPECT_FALSE(normalize_arguments(&bad_str));
    const OrderedJson arr_str = "[1]";
    EXPECT_FALSE(normalize_arguments(&arr_str));
}

TEST(ToolCallJson, CallShapes) {
    auto calls = calls_from_json_text(R"({"name": "f", "parameters": {"a": 1}, "id": "i1"})");
    ASSERT_TRUE(calls);
    ASSERT_EQ(calls->size(), 1u);
    EXPECT_EQ((*calls)[0].id, "i1");
    EXPECT_EQ((*calls)[0].arguments, R"({"a":1})");

    calls = calls_from_json_text(
        R"([{"type": "function", "id": "x", "function": {"name": "g", "arguments": "{}"}}])");
    ASSERT_TRUE(calls);
    EXPECT_EQ((*calls)[0].name, "g");
    EXPECT_EQ((*calls)[0].id, "x");

    EXPECT_FALSE(calls_from_json_text(R"({"name": "f"})"));
    EXPECT_FALSE(calls_from_json_text(R"({"name": "", "arguments": {}})"));
    EXPECT_FALSE(calls_from_json_text(R"({"name": 3, "arguments": {}})"));
    EXPECT_FALSE(calls_from_json_text(R"([])"));
    EXPECT_FALSE(calls_from_json_text(R"([{"name": "f", "arguments": {}}, 1])"));
    EXPECT_FALSE(calls_from_json_text(R"({"tool_calls": []})"));
    EXPECT_FALSE(calls_from_json_text(R"({"name": "f", "arguments": {})"));
}

TEST(ToolCallPythonic, ParsesCallsAndLiterals) {
    const std::string_view text =
        R"([get_weather(city="Paris", n=-2.5e1), noop(), esc(s='a\'b\n\u00e9', t=(1, 2))] rest)";
    const PythonicResult r = parse_pythonic_calls(text, 0, false);
    ASSERT_EQ(r.status, ScanStatus::Complete);
    EXPECT_EQ(text.substr(r.end), " rest");
    ASSERT_EQ(r.calls.size(), 3u);
    EXPECT_EQ(r.calls[0].arguments, R"({"city":"Paris","n":-25.0})");
    EXPECT_EQ(r.calls[1].arguments, "{}");
    EXPECT_EQ(r.calls[2].arguments, "{\"s\":\"a'b\\né\",\"t\":[1,2]}");
}

TEST(ToolCallPythonic, IncompleteInvalidAndLineSeparatedCalls) {
    EXPECT_EQ(parse_pythonic_calls(R"(f(a="Par)", 0, false).status, ScanStatus::Incomplete);
    EXPECT_EQ(parse_pythonic_calls(R"(f(a="Par)", 0, true).status, ScanStatus::Invalid);
    EXPECT_EQ(parse_pythonic_calls("f(1, 2)", 0, false).status, ScanStatus::Invalid);  // positional
    EXPECT_EQ(parse_pythonic_calls("f(a=x)", 0, false).status, ScanStatus::Invalid);
    EXPECT_EQ(parse_pythonic_calls("x = 1", 0, false).status, ScanStatus::Invalid);
    EXPECT_EQ(parse_pythonic_calls(R"(f(s="\ud800"))", 0, false).status, ScanStatus::Invalid);
    // After a call at the end of the text another may follow on the next line.
    EXPECT_EQ(parse_pythonic_calls("f(a=1)\n", 0, false).status, ScanStatus::Incomplete);
    const PythonicResult two = parse_pythonic_calls("f(a=1)\ng(b=True)\n```", 0, false);
    ASSERT_EQ(two.status, ScanStatus::Complete);
    ASSERT_EQ(two.calls.size(), 2u);
    EXPECT_EQ(two.calls[1].arguments, R"({"b":true})");
    EXPECT_EQ(two.end, std::string_view("f(a=1)\ng(b=True)").size());
}

}  // namespace
}  // namespace lokal::chat
