#include "server/anthropic_request.h"

#include "server/forced_tool_call.h"
#include "server/http_error.h"
#include "server/prompt.h"
#include "server/request_options.h"

namespace lokal::server {

using json = nlohmann::ordered_json;

namespace {

// A string, or text blocks joined (system prompts and tool results come either way).
std::string block_text(const json& content, const std::string& where) {
    return parts_text(content, where, {"text"}, "\n");
}

void unsupported_block(const std::string& type, const std::string& at) {
    if (type == "image" || type == "document") {
        throw HttpError(
            400,
            "'" + at + "': " + type + " blocks are not supported (the model reads " + "text only)",
            at);
    }
    throw HttpError(400, "'" + at + "': unknown content block type '" + type + "'", at);
}

// A user turn: text, and tool results (each becomes a tool message, before the text).
void add_user_turn(json& out, const json& content, const std::string& where) {
    if (content.is_string()) {
        out.push_back({{"role", "user"}, {"content", content}});
        return;
    }
    std::string text;
    for (size_t i = 0; i < content.size(); ++i) {
        const json& b = content[i];
        const std::string at = where + "[" + std::to_string(i) + "]";
        const std::string type = b.is_object() ? b.value("type", "") : "";
        if (type == "text") {
            text += (text.empty() ? "" : "\n") + block_text(json::array({b}), at);
        } else if (type == "tool_result") {
            std::string result;
            if (b.contains("content") && !b["content"].is_null()) {
                result = block_text(b["content"], at + ".content");
            }
            if (b.value("is_error", false)) result.insert(0, "Error: ");
            out.push_back({{"role", "tool"},
                           {"tool_call_id", b.value("tool_use_id", "")},
                           {"content", result}});
        } else {
            unsupported_block(type, at);
        }
    }
    if (!text.empty()) out.push_back({{"role", "user"}, {"content", text}});
}

// An assistant turn: text and the tools it called (earlier thinking is not shown again).
void add_assistant_turn(json& out, const json& content, const std::string& where) {
    if (content.is_string()) {
        out.push_back({{"role", "assistant"}, {"content", content}});
        return;
    }
    json msg = {{"role", "assistant"}, {"content", ""}};
    std::string text;
    json calls = json::array();
    for (size_t i = 0; i < content.size(); ++i) {
        const json& b = content[i];
        const std::string at = where + "[" + std::to_string(i) + "]";
        const std::string type = b.is_object() ? b.value("type", "") : "";
        if (type == "text") {
            text += block_text(json::array({b}), at);
        } else if (type == "tool_use") {
            calls.push_back({{"id", b.value("id", "")},
                             {"type", "function"},
                             {"function",
                              {{"name", b.value("name", "")},
                               {"arguments", b.contains("input") ? b["input"] : json::object()}}}});
        } else if (type != "thinking" && type != "redacted_thinking") {
            unsupported_block(type, at);
        }
    }
    msg["content"] = text;
    if (!calls.empty()) msg["tool_calls"] = calls;
    out.push_back(std::move(msg));
}

}  // namespace

json anthropic_messages(const json& body) {
    json out = json::array();
    if (const json* system = field(body, "system"); system && !system->is_null()) {
        out.push_back({{"role", "system"}, {"content", block_text(*system, "system")}});
    }
    const json* messages = field(body, "messages");
    if (!messages || !messages->is_array() || messages->empty()) {
        throw HttpError(400, "'messages' must be a non-empty list", "messages");
    }
    for (size_t i = 0; i < messages->size(); ++i) {
        const json& m = (*messages)[i];
        const std::string at = "messages[" + std::to_string(i) + "]";
        if (!m.is_object() || !m.contains("content")) {
            throw HttpError(400, "'" + at + "' must be an object with role and content", at);
        }
        const std::string role = m.value("role", "");
        if (role == "user") {
            add_user_turn(out, m["content"], at + ".content");
        } else if (role == "assistant") {
            add_assistant_turn(out, m["content"], at + ".content");
        } else {
            throw HttpError(400, "'" + at + ".role' must be user or assistant", at + ".role");
        }
    }
    return out;
}

json anthropic_tools(const json& body) {
    return flat_tools_as_chat_tools(body, "input_schema", false);
}

AnthropicRequest anthropic_request(const LoadedModel& m, const json& body) {
    AnthropicRequest r;
    GenerationRequest& g = r.g;
    g.params = anthropic_params(m.defaults.parameters, body);
    r.stop_sequences = g.params.generate.stop;
    if (const json* t = field(body, "thinking"); t && !t->is_null()) {
        if (!t->is_object() || !t->contains("type") || !(*t)["type"].is_string()) {
            throw HttpError(400, "'thinking' must be {\"type\": \"enabled\"} or disabled",
                            "thinking");
        }
        r.thinking = (*t)["type"] == "enabled";
        if (r.thinking && !can_think(m)) {
            throw HttpError(400, "'" + m.name + "' does not support thinking", "thinking");
        }
    }
    json tools = anthropic_tools(body);
    g.has_tools = tools.is_array() && !tools.empty();
    if (const json* choice = field(body, "tool_choice"); choice && choice->is_object()) {
        if (choice->value("type", "") == "none") g.has_tools = false;
    }
    const json vars = {{"enable_thinking", r.thinking}};
    // Too long a conversation is refused (400), as Anthropic does, rather than cut short.
    const int n_ctx = m.scheduler ? m.scheduler->context_for(g.params.n_ctx) : g.params.n_ctx;
    FittedChat fit = fit_chat_prompt(m, anthropic_messages(body), g.has_tools ? &tools : nullptr,
                                     n_ctx, false, can_think(m) ? &vars : nullptr);
    for (const auto& s : fit.prompt.stop) g.params.generate.stop.push_back(s);
    g.prompt = std::move(fit.tokens);
    g.prompt_text = fit.prompt.text;
    g.parse_output = true;
    // Thinking comes back as thinking blocks when asked for, and is never mixed into the text.
    g.reasoning = r.thinking ? chat::ReasoningMode::Separate : chat::ReasoningMode::Strip;
    g.chat_template = m.prompt_format.text;
    if (const json* choice = field(body, "tool_choice");
        choice && choice->is_object() && g.has_tools) {
        const std::string type = choice->value("type", "auto");
        ForcedToolCall forced{type == "any" || type == "tool", std::nullopt};
        if (type == "tool") forced.name = choice->value("name", "");
        g.format = forced_tool_call_grammar(chat::detect_tool_format(g.chat_template), tools,
                                            forced, "tool_choice");
    }
    return r;
}

}  // namespace lokal::server
