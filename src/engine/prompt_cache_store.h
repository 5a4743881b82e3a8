// The persistent prompt cache: KV snapshots (engine/kv_snapshot.h) of finished sequences in a
// directory shared by every lokal process, with a RAM tier in front. A new request restores
// the snapshot sharing the longest prefix with its prompt, after a restart or an unload too.
//
// Files are named <key hash>-<token hash>.kv, written to a temporary file and renamed into
// place (several processes may write the same name: one whole file wins). The directory never
// holds more than max_bytes of snapshots: before a rename, the oldest (by modification time,
// which a restore refreshes) are removed, under an flock on <dir>/.lock. Damaged or foreign
// files are skipped with a line on stderr.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "engine/kv_snapshot.h"

namespace lokal::engine {

struct PromptCacheParams {
    std::string dir;    // empty: no persistent cache
    std::string model;  // the model file's identity (model_cache_key); empty: no cache
    uint64_t max_bytes = 2ull << 30;    // on disk
    uint64_t ram_bytes = 512ull << 20;  // snapshots kept in memory
    int min_tokens = 256;               // shorter sequences are not saved

    bool enabled() const { return !dir.empty() && !model.empty(); }
};

// The environment's settings over `base`: LOKAL_CACHE=0 turns the cache off, LOKAL_CACHE_DIR,
// LOKAL_CACHE_SIZE and LOKAL_CACHE_RAM (bytes, or with a K, M or G suffix),
// LOKAL_CACHE_MIN_TOKENS.
PromptCacheParams prompt_cache_params_from_env(PromptCacheParams base);
// "sha256-<hex>" for a store blob (its name is its digest), else the file's size and a hash of
// its first and last MiB.
std::string model_cache_key(const std::string& path);

// A name the /slots API may use: one path component of letters, digits, '.', '_' and '-', not
// starting with '.'.
bool valid_snapshot_name(const std::string& name);

struct CacheFileInfo {
    std::string name;
    std::string model;  // empty when the file is not a readable snapshot
    std::string kv_type;
    size_t n_tokens = 0;
    uint64_t bytes = 0;
    std::filesystem::file_time_type modified;
};
std::vector<CacheFileInfo> list_prompt_cache(const std::filesystem::path& dir);
// Removes every snapshot file (named ones too); returns how many.
int clear_prompt_cache(const std::filesystem::path& dir);

class PromptCacheStore {
  public:
    PromptCacheStore(PromptCacheParams params, SnapshotKey key);
    ~PromptCacheStore();  // writes what is queued, then stops
    PromptCacheStore(const PromptCacheStore&) = delete;
    PromptCacheStore& operator=(const PromptCacheStore&) = delete;

    const PromptCacheParams& params() const { return params_; }
    const SnapshotKey& key() const { return key_; }

    struct Match {
        std::shared_ptr<const KvSnapshot> snapshot;
        size_t n = 0;  // tokens shared with the prompt
    };
    // The snapshot sharing the longest prefix with prompt, when that is longer than
    // longer_than; else an empty Match.
    Match find(std::span<const int32_t> prompt, size_t longer_than);
    // Whether a snapshot begins with all of `tokens` (saving them again would add nothing).
    bool covers(std::span<const int32_t> tokens);
    // Keeps the snapshot in RAM at once and writes it on the writer thread.
    void save(std::shared_ptr<const KvSnapshot> s);
    void wait_idle();  // until every queued snapshot is written (tests)

    // Named snapshots (the /slots API), written and read at once; they are evicted like the
    // others. Throw lokal::Error for a bad name, a missing or unreadable file.
    void save_named(const std::string& name, const KvSnapshot& s);
    KvSnapshot load_named(const std::string& name);
    bool erase_named(const std::string& name);

  private:
    struct Entry {
        std::vector<int32_t> tokens;
        bool bad = false;
    };
    void writer_loop();
    void write_file(const std::string& name, const KvSnapshot& s);
    void refresh_index();                                                         // mutex_ held
    void remember(const std::string& name, std::shared_ptr<const KvSnapshot> s);  // mutex_ held
    std::string name_for(std::span<const int32_t> tokens) const;

    const PromptCacheParams params_;
    const SnapshotKey key_;
    const std::filesystem::path dir_;
    const std::string prefix_;  // of this key's file names

    std::mutex mutex_;
    std::map<std::string, Entry> index_;  // this key's files on disk, by name
    std::list<std::pair<std::string, std::shared_ptr<const KvSnapshot>>> ram_;  // newest first
    uint64_t ram_used_ = 0;

    std::condition_variable wake_, idle_;
    std::deque<std::shared_ptr<const KvSnapshot>> queue_;
    bool writing_ = false, stopping_ = false;
    std::thread writer_;
};

}  // namespace lokal::engine
