#include "chat/prompt.h"

#include <algorithm>

#include "base/error.h"
#include "chat/builtin_format.h"
#include "jinja/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace lokal::chat {

using json = nlohmann::ordered_json;

std::string content_text(const json& content, const std::string& name) {
    if (content.is_null()) return "";
    if (content.is_string()) return content.get<std::string>();
    if (content.is_array()) {
        std::string out;
        for (const auto& part : content) {
            if (part.is_string()) {
                out += part.get<std::string>();
            } else if (part.is_object() && part.value("type", "") == "text" &&
                       part.contains("text") && part["text"].is_string()) {
                out += part["text"].get<std::string>();
            } else if (part.is_object() && part.value("type", "") != "text") {
                throw PromptError("'" + name + "': only text content is supported", name);
            } else {
                throw PromptError("'" + name + "' has a malformed part", name);
            }
        }
        return out;
    }
    throw PromptError("'" + name + "' must be a string or a list of parts", name);
}

namespace {

// The model's own Jinja template, as Hugging Face's apply_chat_template renders it.
ChatPrompt render_with_template(const PromptFormat& format, const tokenizer::Tokenizer& tok,
                                const jinja::Template& tmpl, json messages, const json* tools,
                                const json* extra) {
    jinja::ChatTemplateInputs in;
    if (format.system && std::none_of(messages.begin(), messages.end(), [](const json& m) {
            return m.value("role", "") == "system";
        })) {
        messages.insert(messages.begin(), json{{"role", "system"}, {"content", *format.system}});
    }
    in.messages = std::move(messages);
    if (tools && tools->is_array() && !tools->empty()) in.tools = *tools;
    in.add_generation_prompt = true;
    if (tok.bos() >= 0) in.bos_token = tok.token_text(tok.bos());
    if (tok.eos() >= 0) in.eos_token = tok.token_text(tok.eos());
    if (extra && extra->is_object()) in.extra = *extra;
    ChatPrompt p;
    try {
        p.text = jinja::render_chat(tmpl, in);
    } catch (const Error& e) {
        // raise_exception() in a template is how models reject a conversation shape.
        throw PromptError(
            std::string("the model's chat template refused the messages: ") + e.what(), "messages");
    }
    return p;
}

}  // namespace

bool looks_like_go_template(std::string_view text) {
    if (text.find("{%") != std::string_view::npos) return false;
    for (std::string_view marker : {"{{ .", "{{- .", "{{.", "{{ range", "{{- range", "{{ if .",
                                    "{{- if .", "{{ $", "{{- $"}) {
        if (text.find(marker) != std::string_view::npos) return true;
    }
    return false;
}

PromptTemplate parse_prompt_template(std::string_view text) {
    PromptTemplate t;
    if (looks_like_go_template(text)) {
        t.go = GoTemplate::parse(text);
    } else {
        t.jinja = jinja::Template::parse(text);
    }
    return t;
}

namespace {

// Ollama's way: the Go template gets .Messages, .Tools, .System, .Prompt, ...
ChatPrompt render_with_go_template(const PromptFormat& format, const GoTemplate& tmpl,
                                   json messages, const json* tools, const json* extra) {
    if (format.system && std::none_of(messages.begin(), messages.end(), [](const json& m) {
            return m.value("role", "") == "system";
        })) {
        messages.insert(messages.begin(), json{{"role", "system"}, {"content", *format.system}});
    }
    const bool think_set = extra && extra->is_object() && extra->contains("enable_thinking");
    const bool think = think_set && (*extra)["enable_thinking"].is_boolean() &&
                       (*extra)["enable_thinking"].get<bool>();
    const nlohmann::json data = go_template_data(
        nlohmann::json::parse(messages.dump()),
        tools && tools->is_array() ? nlohmann::json::parse(tools->dump()) : nlohmann::json::array(),
        think_set, think);
    ChatPrompt p;
    try {
        p.text = tmpl.render(data);
    } catch (const Error& e) {
        throw PromptError(std::string("the chat template failed: ") + e.what(), "messages");
    }
    return p;
}

ChatPrompt render_any(const PromptFormat& format, const tokenizer::Tokenizer& tok,
                      const PromptTemplate& t, json messages, const json* tools,
                      const json* extra) {
    if (t.go) return render_with_go_template(format, *t.go, std::move(messages), tools, extra);
    return render_with_template(format, tok, *t.jinja, std::move(messages), tools, extra);
}

}  // namespace

ChatPrompt chat_prompt(const PromptFormat& format, const tokenizer::Tokenizer& tok,
                       const json& messages, const json* tools, const json* extra,
                       const PromptTemplate* override_template) {
    if (!messages.is_array()) throw PromptError("'messages' must be a list", "messages");
    std::vector<Message> msgs;
    json normalized = json::array();
    for (size_t i = 0; i < messages.size(); ++i) {
        const json& m = messages[i];
        const std::string name = "messages[" + std::to_string(i) + "]";
        if (!m.is_object()) throw PromptError("'" + name + "' must be an object", name);
        if (!m.contains("role") || !m["role"].is_string()) {
            throw PromptError("'" + name + ".role' must be a string", name + ".role");
        }
        std::string role = m["role"].get<std::string>();
        if (role == "developer") role = "system";
        if (role != "system" && role != "user" && role != "assistant" && role != "tool") {
            throw PromptError("'" + name + ".role' must be system, user, assistant or tool",
                              name + ".role");
        }
        std::string content =
            m.contains("content") ? content_text(m["content"], name + ".content") : std::string();
        json copy = m;
        copy["role"] = role;
        if (m.contains("content") && !m["content"].is_null()) copy["content"] = content;
        normalized.push_back(std::move(copy));
        if (role == "tool") role = "user";
        msgs.push_back({role, content});
    }
    if (override_template) {
        return render_any(format, tok, *override_template, std::move(normalized), tools, extra);
    }
    if (format.tmpl.go || format.tmpl.jinja) {
        return render_any(format, tok, format.tmpl, std::move(normalized), tools, extra);
    }
    if (format.system &&
        std::none_of(msgs.begin(), msgs.end(), [](const auto& m) { return m.role == "system"; })) {
        msgs.insert(msgs.begin(), {"system", *format.system});
    }
    ChatPrompt p;
    p.text = render(format.family, msgs);
    p.stop = stop_strings(format.family);
    return p;
}

std::vector<int32_t> tokenize_prompt(const tokenizer::Tokenizer& tok, const std::string& text) {
    bool add_special = true;
    if (tok.bos() >= 0) {
        const std::string& bos = tok.token_text(tok.bos());
        if (!bos.empty() && text.starts_with(bos)) add_special = false;
    }
    return tok.encode(text, add_special, true);
}

FittedChat fit_chat_prompt(const PromptFormat& format, const tokenizer::Tokenizer& tok,
                           const json& messages, const json* tools, int n_ctx, bool truncate,
                           const json* extra, const PromptTemplate* override_template) {
    FittedChat f;
    f.messages = messages;
    for (;;) {
        f.prompt = chat_prompt(format, tok, f.messages, tools, extra, override_template);
        f.tokens = tokenize_prompt(tok, f.prompt.text);
        if (!truncate || n_ctx <= 0 || (int64_t)f.tokens.size() < n_ctx) return f;
        // The oldest message that is neither a system message nor the last one.
        size_t drop = 0;
        while (drop + 1 < f.messages.size() && f.messages[drop].is_object() &&
               f.messages[drop].value("role", "") == "system") {
            ++drop;
        }
        if (drop + 1 >= f.messages.size()) return f;
        f.messages.erase(f.messages.begin() + (std::ptrdiff_t)drop);
        ++f.dropped;
    }
}

}  // namespace lokal::chat
