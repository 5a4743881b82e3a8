#include "server/prompt.h"

#include "chat/builtin_format.h"
#include "server/http_error.h"
#include "tokenizer/tokenizer.h"

namespace lokal::server {

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
                throw HttpError(400, "'" + name + "': only text content is supported", name);
            } else {
                throw HttpError(400, "'" + name + "' has a malformed part", name);
            }
        }
        return out;
    }
    throw HttpError(400, "'" + name + "' must be a string or a list of parts", name);
}

ChatPrompt chat_prompt(const LoadedModel& model, const json& messages, const json* tools) {
    if (!messages.is_array()) throw HttpError(400, "'messages' must be a list", "messages");
    (void)tools;
    std::vector<chat::Message> msgs;
    for (size_t i = 0; i < messages.size(); ++i) {
        const json& m = messages[i];
        const std::string name = "messages[" + std::to_string(i) + "]";
        if (!m.is_object()) throw HttpError(400, "'" + name + "' must be an object", name);
        if (!m.contains("role") || !m["role"].is_string()) {
            throw HttpError(400, "'" + name + ".role' must be a string", name + ".role");
        }
        std::string role = m["role"].get<std::string>();
        if (role == "developer") role = "system";
        if (role != "system" && role != "user" && role != "assistant" && role != "tool") {
            throw HttpError(400, "'" + name + ".role' must be system, user, assistant or tool",
                            name + ".role");
        }
        std::string content =
            m.contains("content") ? content_text(m["content"], name + ".content") : std::string();
        if (role == "tool") role = "user";
        msgs.push_back({role, content});
    }
    if (model.defaults.system &&
        std::none_of(msgs.begin(), msgs.end(), [](const auto& m) { return m.role == "system"; })) {
        msgs.insert(msgs.begin(), {"system", *model.defaults.system});
    }
    ChatPrompt p;
    p.text = chat::render(model.family, msgs);
    p.stop = chat::stop_strings(model.family);
    return p;
}

std::vector<int32_t> tokenize_prompt(const LoadedModel& model, const std::string& text) {
    const tokenizer::Tokenizer& tok = model.model->tokenizer();
    bool add_special = true;
    if (tok.bos() >= 0) {
        const std::string& bos = tok.token_text(tok.bos());
        if (!bos.empty() && text.starts_with(bos)) add_special = false;
    }
    return tok.encode(text, add_special, true);
}

}  // namespace lokal::server
