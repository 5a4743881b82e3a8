#include "fit/calibration.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "base/thread_pool.h"
#include "fit/best_time.h"
#include "fit/test_matrix.h"
#include "kernels/cpu/matmul.h"
#include "kernels/cpu/packed.h"
#include "kernels/cpu/vec_dot.h"
#include "store/store.h"

namespace lokal::fit {
namespace {

std::string cpu_model_name() {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) {
        if (line.starts_with("model name")) {
            const size_t colon = line.find(':');
            if (colon != std::string::npos) return line.substr(colon + 2);
        }
    }
    return "unknown cpu";
}

}  // namespace

TypeSpeed measure_type(DType type, int threads) {
    ThreadPool pool(threads);
    kernels::MatmulScratch scratch;
    TypeSpeed s;
    const int64_t cols = 4096;
    {
        // 256 MiB of weights: past the last-level cache (large on server CPUs), as a model is.
        const uint64_t rb = row_bytes(type, (uint64_t)cols);
        const int64_t rows = std::max<int64_t>(8, (int64_t)((256ull << 20) / rb) / 8 * 8);
        TestMatrix m(type, rows, cols);
        std::vector<float> x((size_t)cols, 0.5f), y((size_t)rows);
        const double t = best_seconds(
            5, [&] { kernels::matmul(m.view, x.data(), 1, y.data(), rows, pool, scratch); });
        s.matvec_gbs = (double)m.bytes() / t / 1e9;
    }
    {
        const int64_t rows = 1024, batch = 256;
        TestMatrix m(type, rows, cols / 2);
        std::vector<float> x((size_t)(batch * cols / 2), 0.25f), y((size_t)(batch * rows));
        const double t = best_seconds(
            3, [&] { kernels::matmul(m.view, x.data(), batch, y.data(), rows, pool, scratch); });
        s.gemm_gflops = 2.0 * (double)rows * ((double)cols / 2) * (double)batch / t / 1e9;
    }
    {
        const int64_t rows = 64, small_cols = 256;
        TestMatrix m(type, rows, small_cols);
        std::vector<float> x((size_t)small_cols, 0.5f), y((size_t)rows);
        s.call_seconds = best_seconds(
            50, [&] { kernels::matmul(m.view, x.data(), 1, y.data(), rows, pool, scratch); });
    }
    return s;
}

std::filesystem::path default_calibration_path() {
    if (const char* models = std::getenv("LOKAL_MODELS"); models && *models) {
        return std::filesystem::path(models) / "fit-calibration.json";
    }
    return store::Store::default_root().parent_path() / "fit-calibration.json";
}

std::string machine_key(int threads) {
    return cpu_model_name() + ", " + kernels::isa_name(kernels::active_isa()) + ", " +
           std::to_string(threads) + " threads, repack " +
           (kernels::repack_enabled() ? "on" : "off") + ", kernels r" +
           std::to_string(kernels::kKernelsRevision);
}

namespace {

nlohmann::json read_cache(const std::filesystem::path& path) {
    nlohmann::json cache = nlohmann::json::object();
    if (std::ifstream in(path); in) {
        cache = nlohmann::json::parse(in, nullptr, false);
        if (!cache.is_object()) cache = nlohmann::json::object();
    }
    return cache;
}

// Written beside and renamed: a reader never sees half a file.
void write_cache(const std::filesystem::path& path, const nlohmann::json& cache) {
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    const std::filesystem::path tmp = path.string() + ".tmp";
    if (std::ofstream o(tmp); o) {
        o << cache.dump(2) << "\n";
        o.close();
        std::filesystem::rename(tmp, path, ec);
    }
}

// The op speeds' fields, in cache order.
constexpr std::pair<const char*, double OpSpeed::*> kOpFields[] = {
    {"attn_gflops", &OpSpeed::attn_gflops}, {"attn_key_ns", &OpSpeed::attn_key_ns},
    {"norm_ns", &OpSpeed::norm_ns},         {"glu_ns", &OpSpeed::glu_ns},
    {"geglu_ns", &OpSpeed::geglu_ns},       {"rope_ns", &OpSpeed::rope_ns}};

}  // namespace

std::map<DType, TypeSpeed> calibrate(const std::vector<DType>& types, int threads,
                                     const std::filesystem::path& path, int* measured,
                                     const Measure& measure) {
    using nlohmann::json;
    json cache = read_cache(path);
    const std::string key = machine_key(threads);
    json& entry = cache[key];
    if (!entry.is_object()) entry = json::object();
    std::map<DType, TypeSpeed> out;
    *measured = 0;
    for (DType t : types) {
        const std::string name(dtype_name(t));
        const json& e = entry.contains(name) ? entry[name] : json();
        if (e.is_object() && e.value("matvec_gbs", 0.0) > 0 && e.value("gemm_gflops", 0.0) > 0) {
            out[t] = {e.value("matvec_gbs", 0.0), e.value("gemm_gflops", 0.0),
                      e.value("call_seconds", 0.0)};
            continue;
        }
        const TypeSpeed s = measure(t, threads);
        out[t] = s;
        entry[name] = {{"matvec_gbs", s.matvec_gbs},
                       {"gemm_gflops", s.gemm_gflops},
                       {"call_seconds", s.call_seconds}};
        ++*measured;
    }
    if (*measured > 0) write_cache(path, cache);
    return out;
}

OpSpeed calibrate_ops(int head_dim, int threads, const std::filesystem::path& path, int* measured,
                      const MeasureOps& measure) {
    using nlohmann::json;
    json cache = read_cache(path);
    json& entry = cache[machine_key(threads)];
    if (!entry.is_object()) entry = json::object();
    const std::string name = "ops, head_dim " + std::to_string(head_dim);
    *measured = 0;
    if (const json& e = entry.contains(name) ? entry[name] : json(); e.is_object()) {
        OpSpeed s;
        bool complete = true;
        for (const auto& [field, member] : kOpFields) {
            s.*member = e.value(field, 0.0);
            complete = complete && e.contains(field);
        }
        if (complete) return s;
    }
    const OpSpeed s = measure(head_dim, threads);
    json e = json::object();
    for (const auto& [field, member] : kOpFields) e[field] = s.*member;
    entry[name] = e;
    *measured = 1;
    write_cache(path, cache);
    return s;
}

namespace {

struct Fnv1a {
    uint64_t h = 1469598103934665603ull;
    void add(const void* p, size_t n) {
        for (size_t i = 0; i < n; ++i)
            h = (h ^ static_cast<const uint8_t*>(p)[i]) * 1099511628211ull;
    }
    void add(const std::string& s) { add(s.data(), s.size() + 1); }
    template <typename T>
    void add_values(const std::vector<T>& v) {
        const uint64_t n = v.size();
        add(&n, sizeof n);
        if (!v.empty()) add(v.data(), v.size() * sizeof(T));
    }
};

void hash_value(Fnv1a& h, const gguf::Value& v) {
    h.add(&v.type, sizeof v.type);
    h.add(&v.i, sizeof v.i);
    h.add(&v.f, sizeof v.f);
    h.add(v.str);
    for (const std::string& s : v.strings) h.add(s);
    h.add_values(v.ints);
    h.add_values(v.floats);
    for (const gguf::Value& a : v.arrays) hash_value(h, a);
}

std::string model_key(const gguf::File& f) {
    Fnv1a h;
    for (const auto& [key, value] : f.metadata()) {
        if (key.starts_with("tokenizer.") || key.starts_with("general.")) continue;
        h.add(key);
        hash_value(h, value);
    }
    for (const gguf::TensorInfo& t : f.tensors()) {
        h.add(t.name);
        h.add(&t.type, sizeof t.type);
        h.add_values(t.dims);
    }
    char name[40];
    std::snprintf(name, sizeof name, "model %016llx", (unsigned long long)h.h);
    return name;
}

}  // namespace

ModelTimes calibrate_model(const gguf::File& header, int threads, const std::filesystem::path& path,
                           int* measured, const MeasureModel& measure) {
    using nlohmann::json;
    const std::string name = model_key(header);
    json cache = read_cache(path);
    json& entry = cache[machine_key(threads)];
    if (!entry.is_object()) entry = json::object();
    *measured = 0;
    if (const json& e = entry.contains(name) ? entry[name] : json();
        e.is_object() && e.value("token_seconds", 0.0) > 0 && e.value("prompt_seconds", 0.0) > 0) {
        return {e.value("prompt_seconds", 0.0), e.value("token_seconds", 0.0)};
    }
    const ModelTimes t = measure(header, threads);
    entry[name] = {{"prompt_seconds", t.prompt_seconds}, {"token_seconds", t.token_seconds}};
    *measured = 1;
    write_cache(path, cache);
    return t;
}

}  // namespace lokal::fit
