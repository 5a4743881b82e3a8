// Renders a model's chat template the way Hugging Face's apply_chat_template does.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "jinja/template.h"

namespace lokal::jinja {

struct ChatTemplateInputs {
    nlohmann::ordered_json messages = nlohmann::ordered_json::array();  // OpenAI-style messages
    std::optional<nlohmann::ordered_json> tools;  // array of tool schemas; absent = not passed
    bool add_generation_prompt = true;
    std::string bos_token;
    std::string eos_token;
    nlohmann::ordered_json extra = nlohmann::ordered_json::object();  // e.g. enable_thinking
    RenderOptions options;
};

// Tool-call `arguments` given as JSON text (OpenAI wire format) become objects, which is what
// templates expect; text that is not a JSON object is left as it is.
nlohmann::ordered_json normalize_messages(const nlohmann::ordered_json& messages);

// Builds the context {messages, tools?, add_generation_prompt, bos_token, eos_token, ...extra}
// and renders. Throws lokal::Error on syntax errors and on errors raised by the template.
std::string render_chat(std::string_view template_source, const ChatTemplateInputs& inputs);
std::string render_chat(const Template& tmpl, const ChatTemplateInputs& inputs);

}  // namespace lokal::jinja
