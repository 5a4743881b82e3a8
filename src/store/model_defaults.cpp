#include "store/model_defaults.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/error.h"
#include "store/store.h"

namespace lokal::store {

StoredModelDefaults stored_model_defaults(const std::string& name_or_path) {
    StoredModelDefaults d;
    std::error_code ec;
    if (std::filesystem::is_regular_file(name_or_path, ec)) return d;
    Store s = Store::open_default();
    std::optional<Manifest> m;
    try {
        m = s.read_manifest(parse_ref(name_or_path));
    } catch (const Error&) {
        return d;  // not a model name
    }
    if (!m) return d;
    auto read = [&](const char* media_type) -> std::optional<std::string> {
        const Layer* l = m->find(media_type);
        if (!l) return std::nullopt;
        std::ifstream in(s.blob_path(l->digest), std::ios::binary);
        std::ostringstream ss;
        ss << in.rdbuf();
        return ss.str();
    };
    if (auto params = read(media::kParams)) {
        auto j = nlohmann::json::parse(*params, nullptr, false);
        if (j.is_object()) d.parameters = std::move(j);
    }
    if (auto msgs = read(media::kMessages)) {
        auto j = nlohmann::json::parse(*msgs, nullptr, false);
        if (j.is_array()) {
            for (const auto& msg : j) {
                if (msg.is_object() && msg.contains("role") && msg["role"].is_string() &&
                    msg.contains("content") && msg["content"].is_string()) {
                    d.messages.push_back({{"role", msg["role"]}, {"content", msg["content"]}});
                }
            }
        }
    }
    if (const Layer* l = m->find(media::kDraft)) d.draft = s.blob_path(l->digest).string();
    d.system = read(media::kSystem);
    d.template_text = read(media::kTemplate);
    return d;
}

}  // namespace lokal::store
