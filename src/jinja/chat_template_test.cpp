#include "jinja/chat_template.h"

#include <gtest/gtest.h>

#include "base/error.h"

namespace lokal::jinja {
namespace {

using json = nlohmann::ordered_json;

TEST(JinjaChat, ToolCallArgumentsBecomeObjects) {
    json msgs = json::parse(R"([{"role": "assistant", "tool_calls": [
        {"type": "function", "function": {"name": "f", "arguments": "{\"city\": \"Oslo\"}"}},
        {"type": "function", "function": {"name": "g", "arguments": "not json"}}]}])");
    json out = normalize_messages(msgs);
    EXPECT_EQ(out[0]["tool_calls"][0]["function"]["arguments"]["city"], "Oslo");
    EXPECT_EQ(out[0]["tool_calls"][1]["function"]["arguments"], "not json");
}

TEST(JinjaChat, BuildsTheHuggingFaceContext) {
    ChatTemplateInputs in;
    in.messages =
        json::parse(R"([{"role": "user", "content": "hi"}, {"role": "assistant", "tool_calls": [
        {"function": {"name": "f", "arguments": "{\"x\": 1}"}}]}])");
    in.bos_token = "<s>";
    in.extra = {{"enable_thinking", false}};
    const char* tmpl =
        "{{ bos_token }}{% for m in messages %}[{{ m.role }}:{{ m.content }}"
        "{% for c in m.tool_calls or [] %}{{ c.function.arguments.x }}{% endfor %}]{% endfor %}"
        "{{ tools is defined }}{{ enable_thinking }}{% if add_generation_prompt %}>{% endif %}";
    EXPECT_EQ(render_chat(tmpl, in), "<s>[user:hi][assistant:1]FalseFalse>");
    in.tools = json::array();
    in.add_generation_prompt = false;
    EXPECT_EQ(render_chat(tmpl, in), "<s>[user:hi][assistant:1]TrueFalse");
    EXPECT_THROW(render_chat("{{ raise_exception('no') }}", in), Error);
}

}  // namespace
}  // namespace lokal::jinja
