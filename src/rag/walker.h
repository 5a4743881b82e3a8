// Finds the files of a folder the RAG indexer reads: every regular file below the root (symlinks
// followed, each directory visited once so a link loop ends), minus .git, what .gitignore files
// exclude, files whose kind we do not read, and files over the size cap. Whatever is passed over
// for a reason a user would want to know (too big, unreadable, a loop) is reported as a Skip.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "rag/extract.h"

namespace lokal::rag {

struct FoundFile {
    std::string path;  // relative to the root, '/' separators
    std::filesystem::path abs;
    uint64_t size = 0;
    int64_t mtime_ns = 0;
    TextKind kind = TextKind::Prose;
};

struct Skip {
    std::string path;
    std::string reason;
};

struct WalkResult {
    std::vector<FoundFile> files;  // sorted by path
    std::vector<Skip> skipped;
};

struct WalkOptions {
    uint64_t max_file_bytes = 20ull << 20;
};

// Throws lokal::Error when the root is not a readable directory.
WalkResult walk_folder(const std::filesystem::path& root, const WalkOptions& options = {});

}  // namespace lokal::rag
