#include "quant/imatrix_file.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <memory>

#include "base/error.h"
#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"

namespace lokal::quant {
namespace {

constexpr std::string_view kSumsSuffix = ".in_sum2";
constexpr std::string_view kCountsSuffix = ".counts";

// "<path>: <parts...>" as an invalid-input error.
template <typename... Parts>
Error file_error(const std::string& path, const Parts&... parts) {
    std::string msg = path + ": ";
    (msg.append(parts), ...);
    return Error(msg);
}

bool strip_suffix(std::string& s, std::string_view suffix) {
    if (s.size() <= suffix.size() ||
        s.compare(s.size() - suffix.size(), suffix.size(), suffix) != 0) {
        return false;
    }
    s.resize(s.size() - suffix.size());
    return true;
}

const float* f32_data(const gguf::TensorInfo& t, const std::string& path) {
    if (t.type != DType::F32) throw file_error(path, "imatrix tensor ", t.name, " is not F32");
    return reinterpret_cast<const float*>(t.data);
}

Importance read_gguf(const gguf::File& f, const std::string& path) {
    std::map<std::string, std::pair<const gguf::TensorInfo*, const gguf::TensorInfo*>> pairs;
    for (const gguf::TensorInfo& t : f.tensors()) {
        std::string name = t.name;
        if (strip_suffix(name, kSumsSuffix)) {
            pairs[name].first = &t;
        } else if (strip_suffix(name, kCountsSuffix)) {
            pairs[name].second = &t;
        }
    }
    if (pairs.empty()) throw Error(path + ": not an importance matrix (no *.in_sum2 tensors)");
    Importance out;
    for (const auto& [name, pair] : pairs) {
        const auto [sums_t, counts_t] = pair;
        if (!sums_t || !counts_t) throw file_error(path, name, " lacks its sums or counts");
        const uint64_t n = sums_t->n_elements, experts = counts_t->n_elements;
        if (experts == 0 || n % experts != 0) {
            throw file_error(path, name, " has ", std::to_string(n), " sums for ",
                             std::to_string(experts), " counts");
        }
        const float* sums = f32_data(*sums_t, path);
        const float* counts = f32_data(*counts_t, path);
        const uint64_t cols = n / experts;
        std::vector<float>& v = out[name];
        v.resize(n);
        for (uint64_t e = 0; e < experts; ++e) {
            const float c = (float)std::lround(counts[e]);
            for (uint64_t i = 0; i < cols; ++i) {
                v[e * cols + i] = c > 0 ? sums[e * cols + i] / c : 1.0f;
            }
        }
    }
    return out;
}

// The legacy format: little-endian int32 fields, as llama.cpp writes it on x86 and ARM.
class LegacyReader {
  public:
    LegacyReader(const std::string& path) : path_(path), in_(path, std::ios::binary) {
        if (!in_) throw Error("cannot open importance matrix " + path, ErrorKind::NotFound);
    }
    int32_t i32() {
        int32_t v = 0;
        read(&v, sizeof v);
        return v;
    }
    void read(void* p, size_t n) {
        if (!in_.read(static_cast<char*>(p), (std::streamsize)n)) {
            throw Error(path_ + ": truncated or not an importance matrix");
        }
    }
    const std::string& path() const { return path_; }

  private:
    std::string path_;
    std::ifstream in_;
};

Importance read_legacy(const std::string& path) {
    constexpr int32_t kMaxName = 1 << 16, kMaxValues = 1 << 28;
    LegacyReader r(path);
    const int32_t n_entries = r.i32();
    if (n_entries < 1 || n_entries > 1 << 20) throw Error(path + ": not an importance matrix");
    Importance out;
    for (int32_t i = 0; i < n_entries; ++i) {
        const int32_t len = r.i32();
        if (len < 1 || len > kMaxName) throw Error(path + ": bad entry name length");
        std::string name((size_t)len, '\0');
        r.read(name.data(), (size_t)len);
        const int32_t ncall = r.i32();
        const int32_t nval = r.i32();
        if (nval < 1 || nval > kMaxValues) throw file_error(path, "bad value count for ", name);
        std::vector<float> v((size_t)nval);
        r.read(v.data(), v.size() * sizeof(float));
        if (ncall > 0) {
            for (float& x : v) x /= (float)ncall;
        }
        out[name] = std::move(v);
    }
    return out;
}

bool is_gguf(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error("cannot open importance matrix " + path, ErrorKind::NotFound);
    uint32_t magic = 0;
    in.read(reinterpret_cast<char*>(&magic), sizeof magic);
    return in && magic == gguf::kMagic;
}

}  // namespace

void write_imatrix(const std::string& path, const ImatrixStats& stats) {
    gguf::Writer w;
    w.set_string("general.type", "imatrix");
    w.set_string_array("imatrix.datasets", stats.datasets);
    w.set_u32("imatrix.chunk_count", stats.chunk_count);
    w.set_u32("imatrix.chunk_size", stats.chunk_size);
    for (const auto& [name, e] : stats.entries) {
        const uint64_t experts = e.counts.size();
        if (experts == 0 || e.sums.empty()) continue;
        const uint64_t cols = e.sums.size() / experts;
        w.add_tensor(name + std::string(kSumsSuffix), DType::F32, {cols, experts}, e.sums.data(),
                     e.sums.size() * sizeof(float));
        w.add_tensor(name + std::string(kCountsSuffix), DType::F32, {1, experts}, e.counts.data(),
                     e.counts.size() * sizeof(float));
    }
    w.write_file(path);
}

Importance read_imatrix(const std::string& path) {
    Importance out = is_gguf(path) ? read_gguf(*gguf::File::open(path), path) : read_legacy(path);
    for (const auto& [name, v] : out) {
        for (float x : v) {
            if (!std::isfinite(x)) throw file_error(path, "non-finite importance for ", name);
        }
    }
    return out;
}

}  // namespace lokal::quant
