#include "engine/kv_snapshot.h"

#include <cstring>

namespace lokal::engine {

namespace {

constexpr char kMagic[8] = {'L', 'O', 'K', 'A', 'L', 'K', 'V', '1'};
constexpr uint32_t kVersion = 1;
// Limits a header must respect before anything is allocated from it.
constexpr uint32_t kMaxModelLen = 4096;
constexpr uint32_t kMaxLayers = 4096;
constexpr uint32_t kMaxTokens = 1u << 24;
constexpr uint64_t kMaxRowBytes = 1u << 24;
constexpr size_t kFixedHeader = sizeof kMagic + 4 * 4 + 8 + 4;

class Reader {
  public:
    explicit Reader(std::span<const uint8_t> b) : b_(b) {}
    bool take(void* dst, size_t n) {
        if (b_.size() - at_ < n) return false;
        std::memcpy(dst, b_.data() + at_, n);
        at_ += n;
        return true;
    }
    size_t at() const { return at_; }

  private:
    std::span<const uint8_t> b_;
    size_t at_ = 0;
};

void put(std::vector<uint8_t>& out, const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    out.insert(out.end(), b, b + n);
}

uint64_t rotl(uint64_t x, int r) {
    return (x << r) | (x >> (64 - r));
}

}  // namespace

uint64_t hash_bytes(const void* data, size_t n, uint64_t seed) {
    // Eight bytes at a time, multiply-rotate mixing, then a final avalanche.
    constexpr uint64_t kMul1 = 0x9E3779B97F4A7C15ull, kMul2 = 0xC2B2AE3D27D4EB4Full;
    const auto* p = static_cast<const uint8_t*>(data);
    uint64_t h = seed ^ (n * kMul1);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        std::memcpy(&w, p + i, 8);
        h = rotl(h ^ (w * kMul2), 31) * kMul1;
    }
    uint64_t tail = 0;
    std::memcpy(&tail, p + i, n - i);
    h = rotl(h ^ (tail * kMul2), 31) * kMul1;
    h ^= h >> 33;
    h *= kMul2;
    h ^= h >> 29;
    return h;
}

std::vector<uint8_t> KvSnapshot::prefix_rows(size_t n) const {
    const size_t have = tokens.size();
    if (n >= have) return rows;
    const size_t rb = key.row_bytes;
    std::vector<uint8_t> out(key.rows_bytes(n));
    for (size_t half = 0; half < 2 * (size_t)key.n_layer; ++half) {
        std::memcpy(out.data() + half * n * rb, rows.data() + half * have * rb, n * rb);
    }
    return out;
}

std::vector<uint8_t> encode_snapshot(const KvSnapshot& s) {
    std::vector<uint8_t> out;
    const uint32_t model_len = (uint32_t)s.key.model.size();
    out.reserve(kFixedHeader + model_len + s.tokens.size() * 4 + s.rows.size() + 8);
    put(out, kMagic, sizeof kMagic);
    const uint32_t fields[4] = {kVersion, (uint32_t)s.key.kv_type, s.key.n_layer,
                                (uint32_t)s.tokens.size()};
    put(out, fields, sizeof fields);
    put(out, &s.key.row_bytes, 8);
    put(out, &model_len, 4);
    put(out, s.key.model.data(), model_len);
    put(out, s.tokens.data(), s.tokens.size() * 4);
    put(out, s.rows.data(), s.rows.size());
    const uint64_t sum = hash_bytes(out.data(), out.size());
    put(out, &sum, 8);
    return out;
}

std::optional<SnapshotHeader> decode_snapshot_header(std::span<const uint8_t> bytes,
                                                     std::string* why) {
    auto fail = [&](const char* reason) -> std::optional<SnapshotHeader> {
        if (why) *why = reason;
        return std::nullopt;
    };
    Reader r(bytes);
    char magic[8];
    uint32_t fields[4], model_len = 0;
    SnapshotHeader h;
    if (!r.take(magic, 8) || std::memcmp(magic, kMagic, 8) != 0) return fail("not a KV snapshot");
    if (!r.take(fields, sizeof fields) || !r.take(&h.key.row_bytes, 8) || !r.take(&model_len, 4))
        return fail("truncated header");
    if (fields[0] != kVersion) return fail("unknown snapshot version");
    if (fields[1] > (uint32_t)kernels::KvType::Q8_0) return fail("unknown KV type");
    h.key.kv_type = (kernels::KvType)fields[1];
    h.key.n_layer = fields[2];
    const uint32_t n_tokens = fields[3];
    if (h.key.n_layer == 0 || h.key.n_layer > kMaxLayers || n_tokens > kMaxTokens ||
        h.key.row_bytes == 0 || h.key.row_bytes > kMaxRowBytes || model_len > kMaxModelLen)
        return fail("implausible header");
    h.key.model.resize(model_len);
    h.tokens.resize(n_tokens);
    if (!r.take(h.key.model.data(), model_len) || !r.take(h.tokens.data(), (size_t)n_tokens * 4))
        return fail("truncated header");
    h.file_bytes = r.at() + h.key.rows_bytes(n_tokens) + 8;
    return h;
}

std::optional<KvSnapshot> decode_snapshot(std::span<const uint8_t> bytes, const SnapshotKey& expect,
                                          std::string* why) {
    auto fail = [&](const char* reason) -> std::optional<KvSnapshot> {
        if (why) *why = reason;
        return std::nullopt;
    };
    std::optional<SnapshotHeader> h = decode_snapshot_header(bytes, why);
    if (!h) return std::nullopt;
    if (bytes.size() != h->file_bytes) return fail("the file size does not match its header");
    const size_t body = bytes.size() - 8;
    uint64_t sum;
    std::memcpy(&sum, bytes.data() + body, 8);
    if (sum != hash_bytes(bytes.data(), body)) return fail("checksum mismatch");
    if (!(h->key == expect)) return fail("made for another model or KV layout");
    KvSnapshot s;
    s.key = std::move(h->key);
    s.tokens = std::move(h->tokens);
    const size_t rows = s.key.rows_bytes(s.tokens.size());
    s.rows.assign(bytes.data() + body - rows, bytes.data() + body);
    return s;
}

}  // namespace lokal::engine
