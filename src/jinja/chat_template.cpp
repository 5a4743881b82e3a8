#include "jinja/chat_template.h"

namespace lokal::jinja {

nlohmann::ordered_json normalize_messages(const nlohmann::ordered_json& messages) {
    nlohmann::ordered_json out = messages;
    if (!out.is_array()) return out;
    for (auto& msg : out) {
        if (!msg.is_object() || !msg.contains("tool_calls") || !msg["tool_calls"].is_array())
            continue;
        for (auto& call : msg["tool_calls"]) {
            if (!call.is_object()) continue;
            auto fn = call.find("function");
            if (fn == call.end() || !fn->is_object()) continue;
            auto args = fn->find("arguments");
            if (args == fn->end() || !args->is_string()) continue;
            auto parsed = nlohmann::ordered_json::parse(args->get<std::string>(), nullptr, false);
            if (!parsed.is_discarded() && parsed.is_object()) *args = std::move(parsed);
        }
    }
    return out;
}

std::string render_chat(const Template& tmpl, const ChatTemplateInputs& inputs) {
    nlohmann::ordered_json ctx = nlohmann::ordered_json::object();
    ctx["messages"] = normalize_messages(inputs.messages);
    if (inputs.tools) ctx["tools"] = *inputs.tools;
    ctx["add_generation_prompt"] = inputs.add_generation_prompt;
    ctx["bos_token"] = inputs.bos_token;
    ctx["eos_token"] = inputs.eos_token;
    if (inputs.extra.is_object())
        for (const auto& [k, v] : inputs.extra.items()) ctx[k] = v;
    return tmpl.render(ctx, inputs.options);
}

std::string render_chat(std::string_view template_source, const ChatTemplateInputs& inputs) {
    return render_chat(Template::parse(template_source), inputs);
}

}  // namespace lokal::jinja
