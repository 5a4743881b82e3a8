// A model's repacked matrices saved on disk, so that the next start maps them instead of packing
// them again (PackedWeights::repack). One file per model file, <dir>/repacked/<name>.packed:
// a header naming the model file (store digest, or path, size and mtime), the packing version
// and every packed matrix's type, shape, offset and checksum, then the matrices, each on a page
// boundary. Mapped read-only and shared, its pages cost what the packed copy would, and every
// process running the model shares them.
//
// Written to a temporary file and renamed into place, so a reader sees no file or a whole one,
// however many processes write at once. A file that is stale (another model file, another
// packing version), truncated or damaged (a header or matrix checksum that does not match) is
// ignored and replaced.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/thread_pool.h"
#include "tensor/dtype.h"

namespace lokal::model {

struct RepackCacheParams {
    std::string dir;                   // empty: no cache
    uint64_t min_bytes = 64ull << 20;  // smaller models repack faster than they would map

    bool enabled() const { return !dir.empty(); }
};

// LOKAL_REPACK_CACHE=0 turns the cache off; LOKAL_REPACK_CACHE_MIN (bytes) sets min_bytes.
// The directory: LOKAL_CACHE_DIR, else "cache" beside the model store ($LOKAL_MODELS/.., or
// ~/.lokal/cache), as the prompt cache's.
RepackCacheParams repack_cache_params_from_env();

// What a cache file must match to stand for model_path: the store digest (a blob's name) or
// the canonical path, with the file's size and modification time. Empty when it cannot be read.
std::string repack_source_identity(const std::string& model_path);
// Where model_path's cache file lives under params.dir.
std::string repack_cache_path(const RepackCacheParams& params, const std::string& model_path);

// One packed matrix: its weight type and shape (the stored matrix's), and its packed bytes.
struct PackedEntry {
    DType type = DType::F32;
    int64_t rows = 0;
    int64_t cols = 0;
    uint64_t bytes = 0;
    const uint8_t* data = nullptr;  // read by the writer; ignored by open
};

class RepackCacheFile {
  public:
    // Maps the file at path and checks it against identity and the expected entries (their
    // data ignored), checksums included (on the pool's threads). nullptr when it does not
    // match, with *why saying why (empty when there is no file).
    static std::unique_ptr<RepackCacheFile> open(const std::string& path,
                                                 const std::string& identity,
                                                 std::span<const PackedEntry> expect,
                                                 ThreadPool& pool, std::string* why);
    ~RepackCacheFile();
    RepackCacheFile(const RepackCacheFile&) = delete;
    RepackCacheFile& operator=(const RepackCacheFile&) = delete;

    // Entry i's packed bytes (mapped, read-only).
    const uint8_t* data(size_t i) const { return base_ + offsets_[i]; }

  private:
    RepackCacheFile() = default;
    uint8_t* base_ = nullptr;
    size_t size_ = 0;
    std::vector<uint64_t> offsets_;
};

// Writes entries to path (creating its directory) through a temporary file renamed into place.
// False with *why on failure; the temporary file is then removed.
bool write_repack_cache(const std::string& path, const std::string& identity,
                        std::span<const PackedEntry> entries, std::string* why);

// The cache files under dir/repacked (`lokal cache ls`).
struct RepackCacheFileInfo {
    std::string name;  // the model's blob name (sha256-...) or its file name and path hash
    uint64_t bytes = 0;
    std::filesystem::file_time_type modified;
};
std::vector<RepackCacheFileInfo> list_repack_cache(const std::string& dir);

// Removes every cache file, temporary ones included (`lokal cache clear`); how many.
int clear_repack_cache(const std::string& dir);

// Removes the cache files of store blobs for which blob_exists(blob name) is false (after
// `lokal rm`); files of models outside the store stay. How many were removed.
int prune_repack_cache(const std::string& dir,
                       const std::function<bool(const std::string& blob_name)>& blob_exists);

}  // namespace lokal::model
