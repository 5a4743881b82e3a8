// Files uploaded through /v1/files: <model store>/files/<id> holds the bytes and <id>.json the
// metadata (vector_store_wire.h's UploadedFile), both written atomically.
#pragma once

#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "server/vector_store_wire.h"

namespace lokal::server {

class FileStore {
  public:
    explicit FileStore(std::filesystem::path dir) : dir_(std::move(dir)) {}
    // <$LOKAL_MODELS or ~/.lokal/models>/files
    static std::filesystem::path default_dir();

    UploadedFile add(const std::string& filename, const std::string& purpose,
                     const std::string& content);
    // Oldest first.
    std::vector<UploadedFile> list() const;
    // nullopt for an unknown or malformed id.
    std::optional<UploadedFile> get(const std::string& id) const;
    std::optional<std::string> content(const std::string& id) const;
    bool remove(const std::string& id);

  private:
    std::filesystem::path dir_;
    mutable std::mutex mutex_;
};

}  // namespace lokal::server
