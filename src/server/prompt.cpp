#include "server/prompt.h"

#include "server/http_error.h"
#include "server/request_options.h"

namespace lokal::server {

nlohmann::ordered_json with_stored_messages(const nlohmann::json& stored,
                                            const nlohmann::ordered_json& messages) {
    if (!stored.is_array() || stored.empty() || !messages.is_array()) return messages;
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    auto rest = messages.begin();
    if (rest != messages.end() && rest->is_object() && rest->value("role", "") == "system") {
        out.push_back(*rest++);
    }
    for (const auto& m : stored) out.push_back(nlohmann::ordered_json::parse(m.dump()));
    for (; rest != messages.end(); ++rest) out.push_back(*rest);
    return out;
}

std::optional<PromptTemplate> request_template(const nlohmann::ordered_json& body) {
    const nlohmann::ordered_json* t = field(body, "template");
    if (!t || t->is_null()) return std::nullopt;
    if (!t->is_string()) throw HttpError(400, "'template' must be a string", "template");
    const std::string& text = t->get_ref<const std::string&>();
    if (text.empty()) return std::nullopt;
    try {
        return chat::parse_prompt_template(text);
    } catch (const Error& e) {
        throw HttpError(400, std::string("'template' does not parse: ") + e.what(), "template");
    }
}

}  // namespace lokal::server
