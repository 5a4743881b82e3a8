// The vector stores of /v1/vector_stores: each is <model store>/vector_stores/<id>.json (name,
// embedding model, files and their status) beside <id>.sqlite, a rag::KnowledgeBase whose file
// paths are the uploaded files' ids. A file is indexed from its text through rag's extract,
// chunker and the store's embedding model; one whose text cannot be read is kept as "failed"
// with the reason.
#pragma once

#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "rag/embedder.h"
#include "rag/search.h"
#include "server/vector_store_wire.h"

namespace lokal::server {

// A search's chunks: as prompt sources (hit paths are the files' names, so the model cites
// those) and as results (file ids), best first.
struct StoreHits {
    std::vector<rag::Hit> hits;
    std::vector<SearchResult> results;
};

class VectorStoreRegistry {
  public:
    explicit VectorStoreRegistry(std::filesystem::path dir) : dir_(std::move(dir)) {}
    // <$LOKAL_MODELS or ~/.lokal/models>/vector_stores
    static std::filesystem::path default_dir();

    VectorStoreInfo create(const std::string& name, const std::string& embedding_model,
                           const nlohmann::ordered_json& metadata);
    std::vector<VectorStoreInfo> list() const;  // oldest first
    std::optional<VectorStoreInfo> get(const std::string& id) const;
    // Renames / sets metadata; false for an unknown id.
    bool update(const std::string& id, const std::optional<std::string>& name,
                const std::optional<nlohmann::ordered_json>& metadata);
    bool remove(const std::string& id);

    // Indexes (or re-indexes) an uploaded file's content into the store, synchronously; the
    // entry it ends with (completed, or failed with last_error). Throws lokal::Error (NotFound)
    // for an unknown store; the embedder's errors (e.g. the model cannot load) mark it failed.
    VectorStoreFile add_file(const std::string& id, const UploadedFile& file,
                             const std::string& content, rag::Embedder& embedder);
    // Removes the file and its chunks; false when the store does not have it.
    bool remove_file(const std::string& id, const std::string& file_id);
    // The k best chunks for the query (hybrid: the query's vector and BM25).
    StoreHits search(const std::string& id, const std::string& query,
                     const std::vector<float>& query_vector, int k);

  private:
    std::filesystem::path meta_path(const std::string& id) const;
    std::filesystem::path kb_path(const std::string& id) const;
    std::optional<VectorStoreInfo> load_locked(const std::string& id) const;
    void save_locked(const VectorStoreInfo& vs);
    // Sets a file's entry (adding it when new) and saves.
    void put_entry_locked(VectorStoreInfo& vs, const VectorStoreFile& f);

    std::filesystem::path dir_;
    // Metadata changes and knowledge-base writes, one at a time; embedding runs outside it.
    mutable std::mutex mutex_;
};

}  // namespace lokal::server
