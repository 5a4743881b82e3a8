#include "server/prompt.h"

#include "server/http_error.h"
#include "server/request_options.h"

namespace lokal::server {

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
