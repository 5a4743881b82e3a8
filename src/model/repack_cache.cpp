#include "model/repack_cache.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string_view>
#include <vector>

#include "kernels/cpu/packed.h"

namespace lokal::model {
namespace fs = std::filesystem;
namespace {

constexpr char kMagic[8] = {'L', 'O', 'K', 'A', 'L', 'P', 'K', 'D'};
constexpr uint32_t kFormatVersion = 1;
constexpr uint64_t kAlign = 4096;
constexpr size_t kChunk = 4u << 20;         // checksummed apart, so that threads share a matrix
constexpr uint64_t kKeepFree = 1ull << 30;  // disk space a cache file must leave free

uint64_t align_up(uint64_t n) {
    return (n + kAlign - 1) / kAlign * kAlign;
}

uint64_t mix(uint64_t h, uint64_t v) {
    h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
    h *= 0xC2B2AE3D27D4EB4Full;
    return h ^ (h >> 29);
}

// Fletcher-style sums over 64-bit words in four lanes: memory-bound, and any changed word
// changes them.
uint64_t chunk_checksum(const uint8_t* p, size_t n) {
    uint64_t a[4] = {}, b[4] = {};
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        for (int l = 0; l < 4; ++l) {
            uint64_t w;
            std::memcpy(&w, p + i + 8 * l, 8);
            a[l] += w;
            b[l] += a[l];
        }
    }
    uint8_t tail[32] = {};
    std::memcpy(tail, p + i, n - i);
    uint64_t h = n;
    for (int l = 0; l < 4; ++l) {
        uint64_t w;
        std::memcpy(&w, tail + 8 * l, 8);
        h = mix(mix(h, a[l] + w), b[l] + a[l] + w);
    }
    return h;
}

uint64_t combine(std::span<const uint64_t> chunk_sums) {
    uint64_t h = 0;
    for (uint64_t c : chunk_sums) h = mix(h, c);
    return h;
}

size_t n_chunks(uint64_t bytes) {
    return (bytes + kChunk - 1) / kChunk;
}

// Each entry's checksum, chunks spread over the pool's threads.
std::vector<uint64_t> checksums(std::span<const uint8_t* const> data,
                                std::span<const uint64_t> bytes, ThreadPool* pool) {
    std::vector<size_t> first(data.size() + 1, 0);
    for (size_t i = 0; i < data.size(); ++i) first[i + 1] = first[i] + n_chunks(bytes[i]);
    std::vector<uint64_t> sums(first.back());
    auto one = [&](size_t c) {
        const size_t e = std::upper_bound(first.begin(), first.end(), c) - first.begin() - 1;
        const uint64_t at = (c - first[e]) * kChunk;
        sums[c] = chunk_checksum(data[e] + at, std::min<uint64_t>(kChunk, bytes[e] - at));
    };
    if (pool) {
        pool->parallel_for((int64_t)sums.size(), 1, [&](int64_t c0, int64_t c1) {
            for (int64_t c = c0; c < c1; ++c) one((size_t)c);
        });
    } else {
        for (size_t c = 0; c < sums.size(); ++c) one(c);
    }
    std::vector<uint64_t> out(data.size());
    for (size_t i = 0; i < data.size(); ++i) {
        out[i] = combine(std::span(sums).subspan(first[i], first[i + 1] - first[i]));
    }
    return out;
}

struct EntryRecord {
    uint32_t type;
    uint32_t reserved;
    int64_t rows;
    int64_t cols;
    uint64_t offset;
    uint64_t bytes;
    uint64_t checksum;
};
static_assert(sizeof(EntryRecord) == 48);

// The header's fields in order; the data offsets follow from the header's size.
struct Header {
    std::string identity;
    std::vector<EntryRecord> entries;
    uint64_t file_size = 0;
};

std::vector<uint8_t> encode(const Header& h) {
    std::vector<uint8_t> out;
    auto put = [&](const void* p, size_t n) {
        const auto* b = static_cast<const uint8_t*>(p);
        out.insert(out.end(), b, b + n);
    };
    const uint32_t versions[2] = {kFormatVersion, kernels::kPackedLayoutVersion};
    const uint64_t id_len = h.identity.size(), n = h.entries.size();
    put(kMagic, sizeof kMagic);
    put(versions, sizeof versions);
    put(&id_len, 8);
    put(h.identity.data(), id_len);
    put(&n, 8);
    put(h.entries.data(), n * sizeof(EntryRecord));
    put(&h.file_size, 8);
    const uint64_t sum = chunk_checksum(out.data(), out.size());
    put(&sum, 8);
    return out;
}

// The header at the start of a mapped file, or nullopt with *why.
std::optional<Header> decode(const uint8_t* p, size_t size, std::string* why) {
    size_t at = 0;
    auto get = [&](void* dst, size_t n) {
        if (n > size - at) return false;
        std::memcpy(dst, p + at, n);
        at += n;
        return true;
    };
    auto fail = [&](const char* reason) -> std::optional<Header> {
        *why = reason;
        return std::nullopt;
    };
    char magic[8];
    uint32_t versions[2];
    uint64_t id_len = 0, n = 0;
    if (!get(magic, 8) || std::memcmp(magic, kMagic, 8) != 0) return fail("not a repack cache");
    if (!get(versions, sizeof versions)) return fail("truncated header");
    if (versions[0] != kFormatVersion || versions[1] != kernels::kPackedLayoutVersion) {
        return fail("written by another lokal version");
    }
    if (!get(&id_len, 8) || id_len > size - at) return fail("truncated header");
    Header h;
    h.identity.assign(reinterpret_cast<const char*>(p + at), id_len);
    at += id_len;
    if (!get(&n, 8) || n > (size - at) / sizeof(EntryRecord)) return fail("truncated header");
    h.entries.resize(n);
    get(h.entries.data(), n * sizeof(EntryRecord));
    uint64_t sum = 0;
    if (!get(&h.file_size, 8)) return fail("truncated header");
    const size_t summed = at;
    if (!get(&sum, 8)) return fail("truncated header");
    if (sum != chunk_checksum(p, summed)) return fail("damaged header");
    return h;
}

std::string hex64(uint64_t v) {
    static const char* digits = "0123456789abcdef";
    std::string s(16, '0');
    for (int i = 15; i >= 0; --i, v >>= 4) s[i] = digits[v & 15];
    return s;
}

bool is_blob_name(const std::string& name) {
    return name.rfind("sha256-", 0) == 0 && name.size() == 7 + 64;
}

std::string errno_text(const char* what) {
    return std::string(what) + ": " + std::strerror(errno);
}

// Temporary files of writers that died before renaming them (an hour is far longer than any
// write takes).
void remove_abandoned_temporaries(const fs::path& dir) {
    std::error_code ec;
    const auto now = fs::file_time_type::clock::now();
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        if (e.path().filename().string().find(".packed.tmp.") == std::string::npos) continue;
        const auto modified = fs::last_write_time(e.path(), ec);
        if (!ec && now - modified > std::chrono::hours(1)) fs::remove(e.path(), ec);
    }
}

// Writes a file's pieces (given in increasing offset order, gaps left zero) in whole 2 MiB
// blocks at 2 MiB offsets. The page cache then holds the file in 2 MiB folios, which a reader's
// mapping can map with huge pages. Written a matrix at a time, most folios were 4 KiB, and
// generation through that mapping ran ~12% slower on TLB misses.
class BlockWriter {
  public:
    static constexpr uint64_t kBlock = 2u << 20;

    explicit BlockWriter(int fd) : fd_(fd), block_(kBlock) {}

    bool put(const uint8_t* p, uint64_t n, uint64_t off) {
        while (n > 0) {
            if (off >= start_ + kBlock && !flush_to(off / kBlock * kBlock)) return false;
            const uint64_t at = off - start_;
            const uint64_t take = std::min(n, kBlock - at);
            std::memcpy(block_.data() + at, p, take);
            used_ = std::max(used_, at + take);
            p += take;
            off += take;
            n -= take;
        }
        return true;
    }

    bool flush() { return flush_to(start_ + kBlock); }

  private:
    // Writes the current block's filled part, then starts a zeroed block at next_start.
    bool flush_to(uint64_t next_start) {
        const uint8_t* p = block_.data();
        uint64_t off = start_;
        uint64_t n = used_;
        while (n > 0) {
            const ssize_t w = ::pwrite(fd_, p, n, (off_t)off);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) return false;
            p += w;
            off += (uint64_t)w;
            n -= (uint64_t)w;
        }
        std::fill(block_.begin(), block_.end(), 0);
        start_ = next_start;
        used_ = 0;
        return true;
    }

    int fd_;
    std::vector<uint8_t> block_;
    uint64_t start_ = 0;  // the current block's file offset
    uint64_t used_ = 0;   // how much of it is written
};

}  // namespace

RepackCacheParams repack_cache_params_from_env() {
    RepackCacheParams p;
    if (const char* v = std::getenv("LOKAL_REPACK_CACHE"); v && std::string_view(v) == "0") {
        return p;
    }
    if (const char* v = std::getenv("LOKAL_REPACK_CACHE_MIN"); v && *v) {
        p.min_bytes = std::strtoull(v, nullptr, 10);
    }
    if (const char* dir = std::getenv("LOKAL_CACHE_DIR"); dir && *dir) {
        p.dir = dir;
    } else if (const char* models = std::getenv("LOKAL_MODELS"); models && *models) {
        fs::path root(models);
        if (!root.has_filename()) root = root.parent_path();  // "models/"
        p.dir = (root.parent_path() / "cache").string();
    } else if (const char* home = std::getenv("HOME"); home && *home) {
        p.dir = (fs::path(home) / ".lokal" / "cache").string();
    }
    return p;
}

std::string repack_source_identity(const std::string& model_path) {
    struct stat st {};
    if (::stat(model_path.c_str(), &st) != 0) return {};
    const std::string name = fs::path(model_path).filename().string();
    const std::string size = " size " + std::to_string(st.st_size);
    // A blob's name is its content's digest: it stays valid wherever the store moves.
    if (is_blob_name(name)) return name + size;
    std::error_code ec;
    const std::string path = fs::weakly_canonical(model_path, ec).string();
    const int64_t mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    return path + size + " mtime " + std::to_string(mtime_ns);
}

std::string repack_cache_path(const RepackCacheParams& params, const std::string& model_path) {
    const fs::path p(model_path);
    std::string name = p.filename().string();
    if (!is_blob_name(name)) {
        // One file per path: a model file rewritten in place replaces its stale cache.
        std::error_code ec;
        const std::string canonical = fs::weakly_canonical(p, ec).string();
        const uint64_t h =
            chunk_checksum(reinterpret_cast<const uint8_t*>(canonical.data()), canonical.size());
        name = p.stem().string() + "-" + hex64(h);
    }
    return (fs::path(params.dir) / "repacked" / (name + ".packed")).string();
}

std::unique_ptr<RepackCacheFile> RepackCacheFile::open(const std::string& path,
                                                       const std::string& identity,
                                                       std::span<const PackedEntry> expect,
                                                       ThreadPool& pool, std::string* why) {
    why->clear();
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno != ENOENT) *why = errno_text("cannot open");
        return nullptr;
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || st.st_size <= 0) {
        *why = "empty";
        ::close(fd);
        return nullptr;
    }
    std::unique_ptr<RepackCacheFile> f(new RepackCacheFile());
    f->size_ = (size_t)st.st_size;
    void* p = ::mmap(nullptr, f->size_, PROT_READ, MAP_SHARED, fd, 0);
    ::close(fd);
    if (p == MAP_FAILED) {
        *why = errno_text("cannot map");
        return nullptr;
    }
    f->base_ = static_cast<uint8_t*>(p);
    // Pages read in through this mapping (a cold start) then come in 2 MiB folios, mapped whole.
    ::madvise(p, f->size_, MADV_HUGEPAGE);  // advisory: fine if unsupported
    const std::optional<Header> h = decode(f->base_, f->size_, why);
    if (!h) return nullptr;
    if (h->file_size != f->size_) {
        *why = "truncated";
        return nullptr;
    }
    if (h->identity != identity) {
        *why = "made from another model file";
        return nullptr;
    }
    if (h->entries.size() != expect.size()) {
        *why = "holds other matrices";
        return nullptr;
    }
    std::vector<const uint8_t*> data;
    std::vector<uint64_t> bytes;
    for (size_t i = 0; i < expect.size(); ++i) {
        const EntryRecord& r = h->entries[i];
        const PackedEntry& e = expect[i];
        if (r.type != (uint32_t)e.type || r.rows != e.rows || r.cols != e.cols ||
            r.bytes != e.bytes) {
            *why = "holds other matrices";
            return nullptr;
        }
        if (r.offset % kAlign != 0 || r.offset > f->size_ || r.bytes > f->size_ - r.offset) {
            *why = "damaged header";
            return nullptr;
        }
        f->offsets_.push_back(r.offset);
        data.push_back(f->base_ + r.offset);
        bytes.push_back(r.bytes);
    }
    const std::vector<uint64_t> sums = checksums(data, bytes, &pool);
    for (size_t i = 0; i < sums.size(); ++i) {
        if (sums[i] != h->entries[i].checksum) {
            *why = "damaged (checksum mismatch)";
            return nullptr;
        }
    }
    return f;
}

RepackCacheFile::~RepackCacheFile() {
    if (base_) ::munmap(base_, size_);
}

bool write_repack_cache(const std::string& path, const std::string& identity,
                        std::span<const PackedEntry> entries, std::string* why) {
    std::error_code ec;
    fs::create_directories(fs::path(path).parent_path(), ec);
    if (ec) {
        *why = "cannot create " + fs::path(path).parent_path().string() + ": " + ec.message();
        return false;
    }
    remove_abandoned_temporaries(fs::path(path).parent_path());
    std::vector<const uint8_t*> data;
    std::vector<uint64_t> bytes;
    uint64_t total = 0;
    for (const PackedEntry& e : entries) {
        data.push_back(e.data);
        bytes.push_back(e.bytes);
        total += e.bytes;
    }
    // A copy of the weights is not worth filling the disk for.
    const fs::space_info space = fs::space(fs::path(path).parent_path(), ec);
    if (!ec && space.available < total + kKeepFree) {
        *why = "not enough free disk space";
        return false;
    }
    const std::vector<uint64_t> sums = checksums(data, bytes, nullptr);
    Header h;
    h.identity = identity;
    // The header's size does not depend on the offsets in it: lay it out once to learn it.
    h.entries.resize(entries.size());
    uint64_t at = align_up(encode(h).size());
    for (size_t i = 0; i < entries.size(); ++i) {
        h.entries[i] = {(uint32_t)entries[i].type, 0,      entries[i].rows, entries[i].cols, at,
                        entries[i].bytes,          sums[i]};
        at = align_up(at + entries[i].bytes);
    }
    h.file_size = at;
    const std::vector<uint8_t> header = encode(h);

    // Unique among processes and threads: each writer renames a whole file of its own.
    static std::atomic<uint64_t> counter{0};
    const std::string tmp =
        path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter.fetch_add(1));
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        *why = errno_text(("cannot create " + tmp).c_str());
        return false;
    }
    BlockWriter out(fd);
    bool ok = out.put(header.data(), header.size(), 0);
    for (size_t i = 0; ok && i < entries.size(); ++i) {
        ok = out.put(entries[i].data, entries[i].bytes, h.entries[i].offset);
    }
    ok = ok && out.flush();
    ok = ok && ::ftruncate(fd, (off_t)h.file_size) == 0;
    if (!ok) *why = errno_text(("cannot write " + tmp).c_str());
    if (::close(fd) != 0 && ok) {
        *why = errno_text(("cannot write " + tmp).c_str());
        ok = false;
    }
    if (ok && ::rename(tmp.c_str(), path.c_str()) != 0) {
        *why = errno_text("cannot rename");
        ok = false;
    }
    if (!ok) ::unlink(tmp.c_str());
    return ok;
}

std::vector<RepackCacheFileInfo> list_repack_cache(const std::string& dir) {
    std::vector<RepackCacheFileInfo> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(fs::path(dir) / "repacked", ec)) {
        if (!e.is_regular_file(ec) || e.path().extension() != ".packed") continue;
        out.push_back({e.path().stem().string(), e.file_size(ec), e.last_write_time(ec)});
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    return out;
}

int clear_repack_cache(const std::string& dir) {
    int n = 0;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(fs::path(dir) / "repacked", ec)) {
        if (e.is_regular_file(ec) && fs::remove(e.path(), ec)) ++n;
    }
    return n;
}

int prune_repack_cache(const std::string& dir,
                       const std::function<bool(const std::string& blob_name)>& blob_exists) {
    int n = 0;
    for (const RepackCacheFileInfo& f : list_repack_cache(dir)) {
        if (!is_blob_name(f.name) || blob_exists(f.name)) continue;
        std::error_code ec;
        if (fs::remove(fs::path(dir) / "repacked" / (f.name + ".packed"), ec)) ++n;
    }
    return n;
}

}  // namespace lokal::model
