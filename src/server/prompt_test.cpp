#include "server/prompt.h"

#include <gtest/gtest.h>

#include "base/test_support.h"
#include "server/generation_request.h"
#include "server/http_error.h"

namespace lokal::server {
namespace {

using json = nlohmann::ordered_json;

// A ChatML-style template with tools and tool calls, like Qwen's.
constexpr const char* kTemplate = R"({%- if tools %}<|im_start|>system
Tools: {{ tools | map(attribute='function.name') | join(', ') }}<|im_end|>
{% endif %}
{%- for m in messages -%}
<|im_start|>{{ m.role }}
{% if m.tool_calls %}{% for c in m.tool_calls %}<tool_call>{{ c.function | tojson }}</tool_call>{% endfor %}{% else %}{{ m.content }}{% endif %}<|im_end|>
{% endfor -%}
{%- if add_generation_prompt %}<|im_start|>assistant
{% endif %})";

class PromptTest : public ::testing::Test {
  protected:
    void SetUp() override {
        LOKAL_REQUIRE_TESTDATA("models/stories260K.gguf");
        m_.model = model::Model::load(testing::testdata_path("models/stories260K.gguf"));
        m_.chat_template = kTemplate;
        m_.prompt_format.tmpl.jinja = jinja::Template::parse(kTemplate);
        m_.prompt_format.text = kTemplate;
    }
    LoadedModel m_;
};

TEST_F(PromptTest, RendersTheModelsTemplateWithToolsAndToolCalls) {
    const json messages = json::parse(R"([
        {"role": "developer", "content": [{"type": "text", "text": "Be brief."}]},
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function",
            "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "18C"}])");
    const json tools = json::parse(
        R"([{"type": "function", "function": {"name": "get_weather", "parameters": {}}}])");
    const ChatPrompt p = chat_prompt(m_, messages, &tools);
    EXPECT_EQ(p.text,
              "<|im_start|>system\nTools: get_weather<|im_end|>\n"
              "<|im_start|>system\nBe brief.<|im_end|>\n"
              "<|im_start|>user\nWeather in Paris?<|im_end|>\n"
              "<|im_start|>assistant\n<tool_call>{\"name\": \"get_weather\", \"arguments\": "
              "{\"city\": \"Paris\"}}</tool_call><|im_end|>\n"
              "<|im_start|>tool\n18C<|im_end|>\n"
              "<|im_start|>assistant\n");
}

TEST_F(PromptTest, StoredSystemPromptAppliesWhenTheRequestHasNone) {
    m_.prompt_format.system = "You are a cat.";
    const ChatPrompt p =
        chat_prompt(m_, json::parse(R"([{"role": "user", "content": "Hi"}])"), nullptr);
    EXPECT_EQ(p.text,
              "<|im_start|>system\nYou are a cat.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
              "<|im_start|>assistant\n");
}

TEST_F(PromptTest, ALongChatDropsItsOldestTurnsToFitTheContext) {
    json messages = json::array();
    messages.push_back({{"role", "system"}, {"content", "Be brief."}});
    for (int i = 0; i < 8; ++i) {
        messages.push_back(
            {{"role", "user"},
             {"content", "Tell me about the cat number " + std::to_string(i) + " please."}});
        messages.push_back({{"role", "assistant"}, {"content", "The cat sat on the mat."}});
    }
    messages.push_back({{"role", "user"}, {"content", "And the dog?"}});
    const FittedChat all = fit_chat_prompt(m_, messages, nullptr, 100000, true);
    EXPECT_EQ(all.dropped, 0);
    const int n_ctx = (int)all.tokens.size() / 2;
    const FittedChat fit = fit_chat_prompt(m_, messages, nullptr, n_ctx, true);
    EXPECT_GT(fit.dropped, 0);
    EXPECT_LT((int)fit.tokens.size(), n_ctx);
    EXPECT_EQ(fit.messages.size() + fit.dropped, messages.size());
    EXPECT_EQ(fit.messages.front()["role"], "system");  // the system prompt stays
    EXPECT_EQ(fit.messages.back()["content"], "And the dog?");
    EXPECT_EQ(fit.messages[1], messages[1 + fit.dropped]);  // the oldest turns went first
    // Dropping one message fewer would not fit.
    json one_more = fit.messages;
    one_more.insert(one_more.begin() + 1, messages[fit.dropped]);
    EXPECT_GE((int)tokenize_prompt(m_, chat_prompt(m_, one_more, nullptr).text).size(), n_ctx);
    // truncate: false keeps everything (the scheduler then refuses the prompt).
    const FittedChat kept = fit_chat_prompt(m_, messages, nullptr, n_ctx, false);
    EXPECT_EQ(kept.dropped, 0);
    EXPECT_EQ(kept.tokens, all.tokens);
}

TEST_F(PromptTest, TemplateErrorsAndBadMessagesAre400) {
    m_.prompt_format.tmpl.jinja =
        jinja::Template::parse("{{ raise_exception('only user turns') }}");
    try {
        chat_prompt(m_, json::parse(R"([{"role": "user", "content": "Hi"}])"), nullptr);
        FAIL() << "expected an error";
    } catch (const chat::PromptError& e) {
        EXPECT_EQ(http_status(e.kind()), 400);
        EXPECT_EQ(e.field, "messages");
        EXPECT_NE(std::string(e.what()).find("only user turns"), std::string::npos);
    }
    for (const char* bad : {R"([{"content": "x"}])", R"([{"role": "wizard", "content": "x"}])",
                            R"([{"role": "user", "content": 5}])", R"(["hello"])"}) {
        EXPECT_THROW(chat_prompt(m_, json::parse(bad), nullptr), chat::PromptError) << bad;
    }
}

// The tool-call syntax is read from the template in effect, Go TEMPLATEs included (#21 item 9).
TEST_F(PromptTest, ToolCallsAreParsedWithAGoTemplate) {
    const std::string go =
        "{{ range .Messages }}{{ .Content }}{{ end }}{{ if .Tools }}Answer with <tool_call>{...}"
        "</tool_call>{{ end }}";
    m_.chat_template.clear();
    m_.prompt_format.tmpl = chat::parse_prompt_template(go);
    m_.prompt_format.text = go;
    const json body = json::parse(R"({"model": "m", "messages": [
        {"role": "user", "content": "Weather in Paris?"}],
        "tools": [{"type": "function", "function": {"name": "get_weather",
                   "parameters": {"type": "object"}}}]})");
    OutputState out = ollama_chat_request(m_, body).make_output();
    chat::ParsedDelta d = out.feed(
        R"(<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}</tool_call>)");
    d.append(out.finish());
    ASSERT_EQ(d.tool_calls.size(), 1u);
    EXPECT_EQ(d.tool_calls[0].name, "get_weather");
    EXPECT_EQ(d.tool_calls[0].arguments, R"({"city":"Paris"})");
    EXPECT_EQ(d.content, "");
}

}  // namespace
}  // namespace lokal::server

namespace lokal::server {
namespace {

TEST(StoredMessages, ComeBeforeTheRequestsOwnAfterItsLeadingSystemMessage) {
    using ordered = nlohmann::ordered_json;
    const nlohmann::json stored = nlohmann::json::parse(
        R"([{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}])");
    const ordered plain = ordered::parse(R"([{"role": "user", "content": "And now?"}])");
    const ordered with_system = ordered::parse(
        R"([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "And now?"}])");

    const ordered a = with_stored_messages(stored, plain);
    ASSERT_EQ(a.size(), 3U);
    EXPECT_EQ(a[0]["content"], "Hi");
    EXPECT_EQ(a[1]["role"], "assistant");
    EXPECT_EQ(a[2]["content"], "And now?");

    const ordered b = with_stored_messages(stored, with_system);
    ASSERT_EQ(b.size(), 4U);
    EXPECT_EQ(b[0]["role"], "system");
    EXPECT_EQ(b[1]["content"], "Hi");
    EXPECT_EQ(b[3]["content"], "And now?");

    EXPECT_EQ(with_stored_messages(nlohmann::json::array(), plain), plain);
}

}  // namespace
}  // namespace lokal::server
