// Ollama-style Go templates: the constructs real Modelfile TEMPLATEs use, rendered exactly.
#include "chat/go_template.h"

#include <gtest/gtest.h>

#include "base/error.h"

namespace lokal::chat {
namespace {

using json = nlohmann::json;

std::string render(const std::string& tmpl, const json& data) {
    return GoTemplate::parse(tmpl).render(data);
}

json chat(const json& messages, const json& tools = json::array()) {
    return go_template_data(messages, tools, false, false);
}

TEST(GoTemplate, LegacySystemPromptTemplate) {
    const std::string t =
        "{{ if .System }}<|system|>{{ .System }}{{ end }}<|user|>{{ .Prompt }}<|assistant|>";
    EXPECT_EQ(render(t, chat(json::parse(R"([{"role":"system","content":"S"},
                                               {"role":"user","content":"P"}])"))),
              "<|system|>S<|user|>P<|assistant|>");
    EXPECT_EQ(render(t, chat(json::parse(R"([{"role":"user","content":"P"}])"))),
              "<|user|>P<|assistant|>");
}

TEST(GoTemplate, TrimMarkersAndComments) {
    EXPECT_EQ(render("a  {{- .X -}}  b", {{"X", "x"}}), "axb");
    EXPECT_EQ(render("a {{- /* c */ -}} b{{/* d */}}", json::object()), "ab");
    EXPECT_EQ(render("a\n{{- .X }}\nb", {{"X", 1}}), "a1\nb");
    EXPECT_EQ(render("{{ -3 }}", json::object()), "-3");
}

TEST(GoTemplate, ChatMlRange) {
    const std::string t =
        "{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n"
        "{{ end }}<|im_start|>assistant\n";
    EXPECT_EQ(render(t, chat(json::parse(R"([{"role":"system","content":"S"},
                                               {"role":"user","content":"U"}])"))),
              "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n"
              "<|im_start|>assistant\n");
}

TEST(GoTemplate, Llama3StyleWithLastMessageAndElseIf) {
    const std::string t = R"({{- range $i, $_ := .Messages }}
{{- $last := eq (len (slice $.Messages $i)) 1 }}
{{- if eq .Role "user" }}<|start_header_id|>user<|end_header_id|>

{{ .Content }}<|eot_id|>{{ if $last }}<|start_header_id|>assistant<|end_header_id|>

{{ end }}
{{- else if eq .Role "assistant" }}<|start_header_id|>assistant<|end_header_id|>

{{ .Content }}{{ if not $last }}<|eot_id|>{{ end }}
{{- end }}
{{- end }})";
    const json d = chat(json::parse(R"([{"role":"user","content":"Hi"},
        {"role":"assistant","content":"Hello"},{"role":"user","content":"Bye"}])"));
    EXPECT_EQ(render(t, d),
              "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
              "<|start_header_id|>assistant<|end_header_id|>\n\nHello<|eot_id|>"
              "<|start_header_id|>user<|end_header_id|>\n\nBye<|eot_id|>"
              "<|start_header_id|>assistant<|end_header_id|>\n\n");
}

TEST(GoTemplate, ToolsAndToolCallsAsJson) {
    const json tools = json::parse(R"([{"type":"function","function":{"name":"get_weather",
        "description":"Weather <now> & later","parameters":{"type":"object"}}}])");
    const json msgs = json::parse(R"([{"role":"user","content":"Paris?"},
        {"role":"assistant","content":"","tool_calls":[{"function":{"name":"get_weather",
         "arguments":"{\"city\":\"Paris\"}"}}]}])");
    const json d = chat(msgs, tools);
    EXPECT_EQ(render("{{ range .Tools }}{{ json .Function }}{{ end }}", d),
              R"({"Description":"Weather \u003cnow\u003e \u0026 later","Name":"get_weather",)"
              R"("Parameters":{"type":"object"}})");
    EXPECT_EQ(render("{{ range .Messages }}{{ range .ToolCalls }}{\"name\": \"{{ .Function.Name }}"
                     "\", \"arguments\": {{ json .Function.Arguments }}}{{ end }}{{ end }}",
                     d),
              R"({"name": "get_weather", "arguments": {"city":"Paris"}})");
}

TEST(GoTemplate, FunctionsVariablesAndWith) {
    const json d = {{"A", json::array({1, 2, 3})}, {"M", {{"k", "v"}}}, {"S", "hello"}};
    EXPECT_EQ(render("{{ len .A }} {{ index .A 1 }} {{ index .M \"k\" }} {{ slice .S 1 3 }}", d),
              "3 2 v el");
    EXPECT_EQ(
        render("{{ and 1 0 }} {{ or 0 \"x\" }} {{ not .Missing }} {{ lt 1 2 }} {{ ge 2 3 }}", d),
        "0 x true true false");
    EXPECT_EQ(render("{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ end }}{{ $x }}", d), "2");
    EXPECT_EQ(render("{{ with .M }}{{ .k }}{{ else }}none{{ end }}{{ with .Nope }}x{{ else }}"
                     "none{{ end }}",
                     d),
              "vnone");
    EXPECT_EQ(render("{{ printf \"%s=%d %q %%\" \"a\" 5 \"b\" }}", d), "a=5 \"b\" %");
    EXPECT_EQ(render("{{ range $i, $v := .A }}{{ if eq $v 2 }}{{ continue }}{{ end }}{{ $i }}"
                     "{{ if eq $v 3 }}{{ break }}{{ end }}{{ end }}",
                     d),
              "02");
    EXPECT_EQ(render("{{ range .Empty }}x{{ else }}empty{{ end }}", d), "empty");
    EXPECT_EQ(render("{{ .S | len }} {{ \"a\" | printf \"%s-%s\" \"b\" }}", d), "5 b-a");
    EXPECT_EQ(render("{{ eq .S \"x\" \"hello\" }}", d), "true");
}

std::string error_of(const std::string& t, const json& d = json::object()) {
    try {
        render(t, d);
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

// Every builtin function once, with the errors each can give.
TEST(GoTemplate, EveryBuiltin) {
    const json d = {{"A", json::array({1, 2, 3})},
                    {"M", {{"k", "<v>"}}},
                    {"N", json::array({{{"k", "x"}}})},
                    {"S", "hello"}};
    EXPECT_EQ(render("{{ print 1 2 \"a\" 3 \"b\" \"c\" }}|{{ println 1 \"a\" }}|{{ print }}", d),
              "1 2a3bc|1 a\n|");
    EXPECT_EQ(
        render("{{ printf \"%s %d\" \"x\" }}|{{ printf \"%v %q\" .A \"s\" }}|{{ printf 5 }}", d),
        "x %!d(MISSING)|[1 2 3] \"s\"|5");
    EXPECT_EQ(
        render("{{ len .S }} {{ len .A }} {{ len .M }} {{ index .N 0 \"k\" }} {{ index .A }}", d),
        "5 3 1 x [1 2 3]");
    EXPECT_EQ(render("{{ slice .A 1 }} {{ slice .A }} {{ slice .S 1 }} {{ slice .A 1 1 }}", d),
              "[2 3] [1 2 3] ello []");
    EXPECT_EQ(render("{{ and 1 \"x\" }}|{{ or 0 \"\" }}|{{ and 0 1 }}|{{ or 1 0 }}|{{ not 0 }}", d),
              "x||0|1|true");
    EXPECT_EQ(render("{{ ne 1 1 }} {{ ne \"a\" \"b\" }} {{ le 2 2 }} {{ gt \"b\" \"a\" }} "
                     "{{ lt \"b\" \"a\" }} {{ ge 1.5 1.0 }} {{ eq 1 2 }}",
                     d),
              "false true true true false true false");
    EXPECT_EQ(render("{{ json .M }} {{ json .A }} {{ json .S }} {{ json .Nope }}", d),
              R"({"k":"\u003cv\u003e"} [1,2,3] "hello" null)");
    const std::string date = render("{{ currentDate }}", d);
    ASSERT_EQ(date.size(), 10u);
    EXPECT_EQ(date[4], '-');
    EXPECT_EQ(date[7], '-');
}

TEST(GoTemplate, BuiltinErrors) {
    const json d = {{"A", json::array({1, 2, 3})}, {"S", "hello"}};
    for (const char* f : {"not", "and", "or", "eq 1", "ne 1", "lt 1", "le", "gt 1", "ge 1", "len",
                          "index", "slice", "printf", "json"}) {
        const std::string name = std::string(f).substr(0, std::string(f).find(' '));
        EXPECT_EQ(error_of(std::string("{{ ") + f + " }}", d),
                  "template line 1: wrong number of arguments for " + name);
    }
    EXPECT_EQ(error_of("{{ lt 1 \"a\" }}", d),
              "template line 1: incompatible types for comparison");
    EXPECT_EQ(error_of("{{ len 1 }}", d), "template line 1: len of 1");
    EXPECT_EQ(error_of("{{ index .A 5 }}", d), "template line 1: index out of range");
    EXPECT_EQ(error_of("{{ index .S 0 }}", d), "template line 1: can't index hello");
    EXPECT_EQ(error_of("{{ slice 1 }}", d), "template line 1: can't slice 1");
    EXPECT_EQ(error_of("{{ slice .S 3 1 }}", d), "template line 1: slice out of range");
    EXPECT_EQ(error_of("\n{{ nosuch }}", d), "template line 2: function \"nosuch\" not defined");
}

TEST(GoTemplate, ErrorsAndLimits) {
    EXPECT_NE(error_of("x\n{{ if .A }}y").find("line 2"), std::string::npos);
    EXPECT_NE(error_of("{{ if .A }}y").find("without {{end}}"), std::string::npos);
    EXPECT_NE(error_of("{{ .A ").find("unclosed action"), std::string::npos);
    EXPECT_NE(error_of("{{ end }}").find("unexpected"), std::string::npos);
    EXPECT_NE(error_of("{{ nosuch 1 }}").find("not defined"), std::string::npos);
    EXPECT_NE(error_of("{{ define \"x\" }}{{ end }}").find("not supported"), std::string::npos);
    EXPECT_NE(error_of("{{ break }}").find("outside a range"), std::string::npos);
    EXPECT_NE(error_of("{{ $y }}").find("undefined variable"), std::string::npos);
    EXPECT_NE(error_of("{{ range 2000000 }}x{{ end }}").find("too many"), std::string::npos);
    EXPECT_NE(error_of("{{ range 1000 }}{{ range 1001 }}{{ end }}{{ end }}").find("too many"),
              std::string::npos);
    std::string deep;
    for (int i = 0; i < 300; ++i) deep += "{{ if 1 }}";
    EXPECT_NE(error_of(deep).find("nested"), std::string::npos);
    EXPECT_NE(error_of("{{ " + std::string(300, '(') + "1" + std::string(300, ')') + " }}")
                  .find("nested"),
              std::string::npos);
}

}  // namespace
}  // namespace lokal::chat
