#include "engine/prompt_cache_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>

#include "base/error.h"

namespace lokal::engine {

namespace fs = std::filesystem;

namespace {

std::string hex64(uint64_t v) {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", (unsigned long long)v);
    return buf;
}

std::optional<uint64_t> parse_size(const char* text) {
    char* end = nullptr;
    const double v = std::strtod(text, &end);
    if (end == text || v < 0) return std::nullopt;
    uint64_t mul = 1;
    switch (*end) {
        case 'k':
        case 'K':
            mul = 1ull << 10;
            break;
        case 'm':
        case 'M':
            mul = 1ull << 20;
            break;
        case 'g':
        case 'G':
            mul = 1ull << 30;
            break;
        case '\0':
            break;
        default:
            return std::nullopt;
    }
    return (uint64_t)(v * (double)mul);
}

void warn(const fs::path& file, const std::string& why) {
    std::fprintf(stderr, "lokal: prompt cache: ignoring %s: %s\n", file.c_str(), why.c_str());
}

// Reads the whole file; nullopt when it cannot be read.
std::optional<std::vector<uint8_t>> read_file(const fs::path& path, size_t limit = SIZE_MAX) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::error_code ec;
    const uint64_t size = fs::file_size(path, ec);
    if (ec) return std::nullopt;
    std::vector<uint8_t> b((size_t)std::min<uint64_t>(size, limit));
    in.read(reinterpret_cast<char*>(b.data()), (std::streamsize)b.size());
    b.resize((size_t)in.gcount());
    return b;
}

// The header and tokens of a file, reading no more of it than they take.
std::optional<SnapshotHeader> read_header(const fs::path& path, std::string* why) {
    constexpr size_t kFixed = 8 + 16 + 8 + 4;
    auto head = read_file(path, kFixed);
    if (!head) {
        *why = "cannot read it";
        return std::nullopt;
    }
    size_t need = kFixed;
    if (head->size() == kFixed) {
        uint32_t n_tokens, model_len;
        std::memcpy(&n_tokens, head->data() + 20, 4);
        std::memcpy(&model_len, head->data() + 32, 4);
        need += (size_t)std::min<uint32_t>(model_len, 1u << 16) +
                (size_t)std::min<uint32_t>(n_tokens, 1u << 24) * 4;
    }
    auto bytes = read_file(path, need);
    if (!bytes) {
        *why = "cannot read it";
        return std::nullopt;
    }
    return decode_snapshot_header(*bytes, why);
}

bool is_snapshot_file(const fs::directory_entry& e) {
    const std::string name = e.path().filename().string();
    return e.is_regular_file() && !name.empty() && name[0] != '.';
}

// Holds an flock on <dir>/.lock while alive (eviction and renames of every process).
class DirLock {
  public:
    explicit DirLock(const fs::path& dir) {
        fd_ = ::open((dir / ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd_ >= 0) ::flock(fd_, LOCK_EX);
    }
    ~DirLock() {
        if (fd_ >= 0) ::close(fd_);  // closing releases the lock
    }
    DirLock(const DirLock&) = delete;
    DirLock& operator=(const DirLock&) = delete;

  private:
    int fd_ = -1;
};

// Removes the least recently used snapshots until `incoming` more bytes fit under max_bytes.
// Returns false when they cannot fit at all. The directory lock must be held.
bool evict_to_fit(const fs::path& dir, uint64_t max_bytes, uint64_t incoming,
                  const std::string& replacing) {
    if (incoming > max_bytes) return false;
    struct File {
        fs::path path;
        fs::file_time_type time;
        uint64_t bytes;
    };
    std::vector<File> files;
    uint64_t total = 0;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        if (!is_snapshot_file(e)) continue;
        std::error_code e1, e2;
        File f{e.path(), e.last_write_time(e1), e.file_size(e2)};
        if (e1 || e2) continue;
        if (f.path.filename() == replacing) continue;  // the rename replaces it
        total += f.bytes;
        files.push_back(std::move(f));
    }
    std::sort(files.begin(), files.end(),
              [](const File& a, const File& b) { return a.time < b.time; });
    for (const File& f : files) {
        if (total + incoming <= max_bytes) break;
        if (fs::remove(f.path, ec)) total -= f.bytes;
    }
    return total + incoming <= max_bytes;
}

size_t common_prefix(std::span<const int32_t> a, std::span<const int32_t> b) {
    const size_t n = std::min(a.size(), b.size());
    size_t i = 0;
    while (i < n && a[i] == b[i]) ++i;
    return i;
}

}  // namespace

PromptCacheParams prompt_cache_params_from_env(PromptCacheParams p) {
    if (const char* v = std::getenv("LOKAL_CACHE_DIR"); v && *v) p.dir = v;
    if (const char* v = std::getenv("LOKAL_CACHE"); v && std::string(v) == "0") p.dir.clear();
    if (const char* v = std::getenv("LOKAL_CACHE_SIZE"); v && *v) {
        if (auto s = parse_size(v)) p.max_bytes = *s;
    }
    if (const char* v = std::getenv("LOKAL_CACHE_RAM"); v && *v) {
        if (auto s = parse_size(v)) p.ram_bytes = *s;
    }
    if (const char* v = std::getenv("LOKAL_CACHE_MIN_TOKENS"); v && *v) {
        p.min_tokens = std::max(1, std::atoi(v));
    }
    return p;
}

std::string model_cache_key(const std::string& path) {
    std::string name = fs::path(path).filename().string();
    if (name.rfind("sha256-", 0) == 0 && name.size() == 7 + 64) return name;
    std::error_code ec;
    const uint64_t size = fs::file_size(path, ec);
    if (ec) return {};
    constexpr size_t kSpan = 1 << 20;
    std::ifstream in(path, std::ios::binary);
    std::vector<char> buf(kSpan);
    in.read(buf.data(), (std::streamsize)kSpan);
    uint64_t h = hash_bytes(buf.data(), (size_t)in.gcount(), size);
    if (size > kSpan) {
        in.clear();
        in.seekg((std::streamoff)(size - kSpan));
        in.read(buf.data(), (std::streamsize)kSpan);
        h = hash_bytes(buf.data(), (size_t)in.gcount(), h);
    }
    return "file-" + std::to_string(size) + "-" + hex64(h);
}

bool valid_snapshot_name(const std::string& name) {
    if (name.empty() || name.size() > 200 || name[0] == '.') return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '_' || c == '-';
    });
}

std::vector<CacheFileInfo> list_prompt_cache(const fs::path& dir) {
    std::vector<CacheFileInfo> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        if (!is_snapshot_file(e)) continue;
        CacheFileInfo info;
        info.name = e.path().filename().string();
        std::error_code e1, e2;
        info.bytes = e.file_size(e1);
        info.modified = e.last_write_time(e2);
        std::string why;
        if (auto h = read_header(e.path(), &why)) {
            info.model = h->key.model;
            info.kv_type = kernels::kv_type_name(h->key.kv_type);
            info.n_tokens = h->tokens.size();
        }
        out.push_back(std::move(info));
    }
    std::sort(out.begin(), out.end(),
              [](const auto& a, const auto& b) { return a.modified > b.modified; });
    return out;
}

int clear_prompt_cache(const fs::path& dir) {
    if (!fs::is_directory(dir)) return 0;
    DirLock lock(dir);
    int n = 0;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        if (is_snapshot_file(e) && fs::remove(e.path(), ec)) ++n;
    }
    return n;
}

// ---- PromptCacheStore ----------------------------------------------------------------------

PromptCacheStore::PromptCacheStore(PromptCacheParams params, SnapshotKey key)
    : params_(std::move(params)),
      key_(std::move(key)),
      dir_(params_.dir),
      prefix_(hex64(hash_bytes(key_.model.data(), key_.model.size(),
                               ((uint64_t)key_.kv_type << 48) ^ ((uint64_t)key_.n_layer << 32) ^
                                   key_.row_bytes)) +
              "-") {
    std::error_code ec;
    fs::create_directories(dir_, ec);
    writer_ = std::thread([this] { writer_loop(); });
}

PromptCacheStore::~PromptCacheStore() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    writer_.join();
}

std::string PromptCacheStore::name_for(std::span<const int32_t> tokens) const {
    return prefix_ + hex64(hash_bytes(tokens.data(), tokens.size_bytes())) + ".kv";
}

void PromptCacheStore::refresh_index() {
    std::map<std::string, Entry> now;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir_, ec)) {
        const std::string name = e.path().filename().string();
        if (!is_snapshot_file(e) || name.rfind(prefix_, 0) != 0) continue;
        if (auto it = index_.find(name); it != index_.end()) {
            now.emplace(name, std::move(it->second));
            continue;
        }
        Entry entry;
        std::string why;
        if (auto h = read_header(e.path(), &why)) {
            if (h->key == key_) {
                entry.tokens = std::move(h->tokens);
            } else {
                entry.bad = true;  // another model whose key hash collides: never ours
            }
        } else {
            warn(e.path(), why);
            entry.bad = true;
        }
        now.emplace(name, std::move(entry));
    }
    index_.swap(now);
    // Snapshots in RAM whose files were evicted stay usable until the RAM tier drops them.
}

void PromptCacheStore::remember(const std::string& name, std::shared_ptr<const KvSnapshot> s) {
    for (auto it = ram_.begin(); it != ram_.end(); ++it) {
        if (it->first == name) {
            ram_used_ -= it->second->rows.size();
            ram_.erase(it);
            break;
        }
    }
    if (s->rows.size() > params_.ram_bytes) return;
    ram_used_ += s->rows.size();
    ram_.emplace_front(name, std::move(s));
    while (ram_used_ > params_.ram_bytes) {
        ram_used_ -= ram_.back().second->rows.size();
        ram_.pop_back();
    }
}

PromptCacheStore::Match PromptCacheStore::find(std::span<const int32_t> prompt,
                                               size_t longer_than) {
    std::lock_guard<std::mutex> lock(mutex_);
    // Candidates: the RAM tier and this key's files, longest shared prefix first.
    std::vector<std::pair<size_t, std::string>> order;
    for (const auto& [name, s] : ram_) {
        const size_t n = common_prefix(s->tokens, prompt);
        if (n > longer_than) order.emplace_back(n, name);
    }
    refresh_index();
    for (const auto& [name, e] : index_) {
        if (e.bad) continue;
        const size_t n = common_prefix(e.tokens, prompt);
        if (n > longer_than) order.emplace_back(n, name);
    }
    std::sort(order.begin(), order.end(), std::greater<>());
    for (const auto& [n, name] : order) {
        for (auto it = ram_.begin(); it != ram_.end(); ++it) {
            if (it->first != name) continue;
            ram_.splice(ram_.begin(), ram_, it);
            return {ram_.front().second, n};
        }
        const fs::path path = dir_ / name;
        std::string why = "cannot read it";
        std::optional<KvSnapshot> s;
        if (auto bytes = read_file(path)) s = decode_snapshot(*bytes, key_, &why);
        if (!s) {
            warn(path, why);
            index_[name].bad = true;
            continue;
        }
        std::error_code ec;
        fs::last_write_time(path, fs::file_time_type::clock::now(), ec);  // recently used
        auto shared = std::make_shared<const KvSnapshot>(std::move(*s));
        remember(name, shared);
        return {shared, n};
    }
    return {};
}

bool PromptCacheStore::covers(std::span<const int32_t> tokens) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [name, s] : ram_) {
        if (common_prefix(s->tokens, tokens) == tokens.size()) return true;
    }
    refresh_index();
    for (const auto& [name, e] : index_) {
        if (!e.bad && common_prefix(e.tokens, tokens) == tokens.size()) return true;
    }
    return false;
}

void PromptCacheStore::save(std::shared_ptr<const KvSnapshot> s) {
    LOKAL_ASSERT(s->key == key_ && s->rows.size() == key_.rows_bytes(s->tokens.size()));
    {
        std::lock_guard<std::mutex> lock(mutex_);
        remember(name_for(s->tokens), s);
        queue_.push_back(std::move(s));
    }
    wake_.notify_all();
}

void PromptCacheStore::wait_idle() {
    std::unique_lock<std::mutex> lock(mutex_);
    idle_.wait(lock, [&] { return queue_.empty() && !writing_; });
}

void PromptCacheStore::writer_loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
        wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) break;  // stopping, with everything written
        std::shared_ptr<const KvSnapshot> s = std::move(queue_.front());
        queue_.pop_front();
        writing_ = true;
        lock.unlock();
        try {
            write_file(name_for(s->tokens), *s);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "lokal: prompt cache: %s\n", e.what());
        }
        lock.lock();
        // Snapshots this one extends add nothing now.
        refresh_index();
        const bool written = index_.count(name_for(s->tokens)) > 0;
        for (auto it = index_.begin(); written && it != index_.end();) {
            const auto& t = it->second.tokens;
            if (!it->second.bad && t.size() < s->tokens.size() &&
                common_prefix(t, s->tokens) == t.size()) {
                std::error_code ec;
                fs::remove(dir_ / it->first, ec);
                it = index_.erase(it);
            } else {
                ++it;
            }
        }
        writing_ = false;
        idle_.notify_all();
    }
}

void PromptCacheStore::write_file(const std::string& name, const KvSnapshot& s) {
    static std::atomic<uint64_t> counter{0};
    const std::vector<uint8_t> bytes = encode_snapshot(s);
    if (bytes.size() > params_.max_bytes) return;  // never fits
    std::error_code ec;
    fs::create_directories(dir_, ec);
    const fs::path tmp = dir_ / (".tmp-" + std::to_string(::getpid()) + "-" +
                                 std::to_string(counter.fetch_add(1)) + "-" + name);
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(bytes.data()), (std::streamsize)bytes.size());
        out.flush();
        if (!out) {
            fs::remove(tmp, ec);
            throw Error("cannot write " + tmp.string());
        }
    }
    DirLock lock(dir_);
    if (!evict_to_fit(dir_, params_.max_bytes, bytes.size(), name)) {
        fs::remove(tmp, ec);
        return;
    }
    fs::rename(tmp, dir_ / name, ec);
    if (ec) {
        fs::remove(tmp, ec);
        throw Error("cannot rename " + tmp.string() + ": " + ec.message());
    }
}

void PromptCacheStore::save_named(const std::string& name, const KvSnapshot& s) {
    if (!valid_snapshot_name(name)) throw Error("invalid file name", ErrorKind::InvalidInput);
    write_file(name, s);
    if (!fs::exists(dir_ / name)) throw Error("the snapshot does not fit in the cache");
}

KvSnapshot PromptCacheStore::load_named(const std::string& name) {
    if (!valid_snapshot_name(name)) throw Error("invalid file name", ErrorKind::InvalidInput);
    const fs::path path = dir_ / name;
    auto bytes = read_file(path);
    if (!bytes) throw Error("no snapshot named " + name, ErrorKind::NotFound);
    std::string why;
    std::optional<KvSnapshot> s = decode_snapshot(*bytes, key_, &why);
    if (!s) throw Error(name + ": " + why, ErrorKind::InvalidInput);
    return std::move(*s);
}

bool PromptCacheStore::erase_named(const std::string& name) {
    if (!valid_snapshot_name(name)) throw Error("invalid file name", ErrorKind::InvalidInput);
    std::error_code ec;
    return fs::remove(dir_ / name, ec);
}

}  // namespace lokal::engine
