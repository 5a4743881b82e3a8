#include "server/prompt.h"

#include <gtest/gtest.h>

#include "base/test_support.h"
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
        m_.jinja_template = jinja::Template::parse(kTemplate);
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
    m_.defaults.system = "You are a cat.";
    const ChatPrompt p =
        chat_prompt(m_, json::parse(R"([{"role": "user", "content": "Hi"}])"), nullptr);
    EXPECT_EQ(p.text,
              "<|im_start|>system\nYou are a cat.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
              "<|im_start|>assistant\n");
}

TEST_F(PromptTest, TemplateErrorsAndBadMessagesAre400) {
    m_.jinja_template = jinja::Template::parse("{{ raise_exception('only user turns') }}");
    try {
        chat_prompt(m_, json::parse(R"([{"role": "user", "content": "Hi"}])"), nullptr);
        FAIL() << "expected an error";
    } catch (const HttpError& e) {
        EXPECT_EQ(e.status, 400);
        EXPECT_NE(std::string(e.what()).find("only user turns"), std::string::npos);
    }
    for (const char* bad : {R"([{"content": "x"}])", R"([{"role": "wizard", "content": "x"}])",
                            R"([{"role": "user", "content": 5}])", R"(["hello"])"}) {
        EXPECT_THROW(chat_prompt(m_, json::parse(bad), nullptr), HttpError) << bad;
    }
}

}  // namespace
}  // namespace lokal::server
