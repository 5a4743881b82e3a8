// A knowledge base: one SQLite file holding the indexed folder's files (path, content hash,
// mtime), their chunks (line range, text, embedding as float32 blob) and an FTS5 index of the
// chunk text kept in step by triggers. Each file's chunks are replaced in one transaction, so an
// indexer killed at any point leaves every file either fully old or fully new.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rag/chunker.h"
#include "rag/sqlite_db.h"

namespace lokal::rag {

struct StoredFile {
    int64_t id = 0;
    std::string path;
    std::string hash;
    int64_t mtime_ns = 0;
    uint64_t size = 0;
};

struct ChunkRow {
    int64_t id = 0;
    std::string path;
    int start_line = 0;
    int end_line = 0;
    std::string text;
    int page = 0;  // Chunk::page
};

class KnowledgeBase {
  public:
    // Opens (creating) the file and its schema.
    explicit KnowledgeBase(const std::string& path);

    // Settings kept in the file: "root" (the indexed folder), "embed_model", "dim".
    std::optional<std::string> meta(const std::string& key);
    void set_meta(const std::string& key, const std::string& value);

    std::vector<StoredFile> files();
    // Replaces the file's chunks (and vectors, one per chunk) and records its hash, atomically.
    void put_file(const StoredFile& file, const std::vector<Chunk>& chunks,
                  const std::vector<std::vector<float>>& vectors);
    // Records a new mtime for a file whose content did not change.
    void touch_file(const std::string& path, int64_t mtime_ns);
    void remove_files(const std::vector<std::string>& paths);

    int64_t chunk_count();
    ChunkRow chunk(int64_t id);
    // Calls fn(chunk id, vector) for every chunk.
    template <class Fn>
    void for_each_vector(Fn&& fn) {
        Statement st(db_.handle(), "SELECT id, vector FROM chunks WHERE vector IS NOT NULL");
        while (st.step()) fn(st.int_at(0), st.floats_at(1));
    }
    // Chunk ids by BM25 (best first) for an FTS5 query expression.
    std::vector<std::pair<int64_t, double>> bm25(const std::string& fts_query, int limit);

    Database& db() { return db_; }

  private:
    Database db_;
};

}  // namespace lokal::rag
