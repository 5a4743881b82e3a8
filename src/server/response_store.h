// Stored Responses (OpenAI's /v1/responses with store: true): one JSON file per response in
// <model store>/responses/, written atomically, so previous_response_id continues a conversation
// across requests and restarts. Bounded: past kMaxStored files the oldest are removed.
#pragma once

#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace lokal::server {

class ResponseStore {
  public:
    static constexpr size_t kMaxStored = 1000;

    explicit ResponseStore(std::filesystem::path dir) : dir_(std::move(dir)) {}
    // <$LOKAL_MODELS or ~/.lokal/models>/responses
    static std::filesystem::path default_dir();

    // record: {"response": ..., "conversation": [...], "input_items": [...]}
    void save(const std::string& id, const nlohmann::ordered_json& record);
    // nullopt for an unknown id (or an unreadable file).
    std::optional<nlohmann::ordered_json> load(const std::string& id) const;
    bool remove(const std::string& id);

  private:
    std::filesystem::path path_of(const std::string& id) const;
    void evict_oldest();

    std::filesystem::path dir_;
    std::mutex mutex_;
};

// resp_ followed by hex digits: nothing that could name a path.
bool is_response_id(const std::string& id);

}  // namespace lokal::server
