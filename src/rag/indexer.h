// Brings a knowledge base up to date with a folder: new and changed files (by content hash; an
// unchanged size and mtime skip the hashing) are extracted, chunked, embedded (several small
// files' chunks together) and stored, one transaction per file; files gone from the folder (or now
// skipped) are removed.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "rag/chunker.h"
#include "rag/embedder.h"
#include "rag/knowledge_base.h"
#include "rag/walker.h"

namespace lokal::rag {

struct IndexOptions {
    WalkOptions walk;
    ChunkOptions chunk;
    size_t batch = 64;  // chunks per Embedder::embed call (small files are embedded together)
};

struct IndexProgress {
    size_t files_done = 0;
    size_t files_total = 0;
    size_t chunks_embedded = 0;
    double seconds = 0;
};

struct IndexStats {
    size_t files_seen = 0;
    size_t files_indexed = 0;  // new or changed: chunked and embedded
    size_t files_unchanged = 0;
    size_t files_removed = 0;
    size_t chunks_embedded = 0;
    double seconds = 0;
    std::vector<Skip> skipped;
};

// A file's chunks, or nullopt with the reason (in `why`) that it cannot be indexed: PDFs page by
// page, HTML as its text, binary files refused.
std::optional<std::vector<Chunk>> file_chunks(TextKind kind, const std::string& bytes,
                                              const ChunkOptions& options, std::string& why);

IndexStats index_folder(KnowledgeBase& kb, const std::filesystem::path& root, Embedder& embedder,
                        const IndexOptions& options = {},
                        const std::function<void(const IndexProgress&)>& progress = {});

}  // namespace lokal::rag
