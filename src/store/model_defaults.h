// What a stored model brings besides its weights: the Modelfile's PARAMETERs (as Ollama's
// params JSON), SYSTEM, TEMPLATE, MESSAGEs and DRAFT.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace lokal::store {

struct StoredModelDefaults {
    nlohmann::json parameters = nlohmann::json::object();
    std::optional<std::string> system;
    std::optional<std::string> template_text;
    // MESSAGE lines: the conversation a chat starts with, [{"role", "content"}, ...].
    nlohmann::json messages = nlohmann::json::array();
    // DRAFT: the path of the draft model's GGUF (a blob of the store).
    std::optional<std::string> draft;
};

// Empty for a file path, a name the store lacks, or a model without them.
StoredModelDefaults stored_model_defaults(const std::string& name_or_path);

}  // namespace lokal::store
