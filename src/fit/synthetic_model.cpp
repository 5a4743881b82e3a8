#include "fit/synthetic_model.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <random>
#include <vector>

#include "base/error.h"
#include "fit/memory_estimate.h"
#include "gguf/gguf_writer.h"
#include "model/context.h"
#include "model/model.h"
#include "tensor/quantize.h"

namespace lokal::fit {
namespace {

uint64_t splitmix64(uint64_t& s) {
    uint64_t z = (s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

float uniform(uint64_t& s) {
    return (float)(splitmix64(s) >> 40) * (1.0f / 16777216.0f);
}

// A tensor's bytes: 64 distinct random rows, repeated. The kernels stream the same number of
// bytes as from real weights, and quantizing a few rows instead of all keeps the copy quick.
std::vector<uint8_t> random_bytes(const gguf::TensorInfo& t, uint64_t seed) {
    const int64_t cols = (int64_t)t.cols(), rows = (int64_t)t.rows();
    const size_t stride = (size_t)row_bytes(t.type, (uint64_t)cols);
    std::vector<uint8_t> out(stride * (size_t)rows, 0);
    if (!can_quantize(t.type) && t.type != DType::F32) return out;
    const bool positive = t.dims.size() == 1 && t.type == DType::F32;
    const int64_t distinct = std::min<int64_t>(rows, 64);
    const float scale = 1.0f / std::sqrt((float)cols);
    std::vector<float> x((size_t)cols);
    uint64_t s = seed;
    for (int64_t r = 0; r < distinct; ++r) {
        for (float& v : x) v = positive ? 0.5f + uniform(s) : (2.0f * uniform(s) - 1.0f) * scale;
        uint8_t* row = out.data() + (size_t)r * stride;
        if (t.type == DType::F32) {
            std::memcpy(row, x.data(), stride);
        } else {
            quantize_row(t.type, x.data(), row, cols);
        }
    }
    for (int64_t r = distinct; r < rows; ++r) {
        std::memcpy(out.data() + (size_t)r * stride,
                    out.data() + (size_t)(splitmix64(s) % (uint64_t)distinct) * stride, stride);
    }
    return out;
}

// The layer a tensor belongs to ("blk.N."), or -1 for the others (embedding, output, norms).
int layer_of(const std::string& name) {
    if (!name.starts_with("blk.")) return -1;
    int n = 0;
    size_t i = 4;
    for (; i < name.size() && name[i] >= '0' && name[i] <= '9'; ++i) n = n * 10 + (name[i] - '0');
    return i > 4 && i < name.size() && name[i] == '.' ? n : -1;
}

// `v` cut to its first `n` elements, whatever its element type.
gguf::Value first_elements(gguf::Value v, size_t n) {
    if (v.strings.size() > n) v.strings.resize(n);
    if (v.ints.size() > n) v.ints.resize(n);
    if (v.floats.size() > n) v.floats.resize(n);
    if (v.arrays.size() > n) v.arrays.resize(n);
    return v;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

}  // namespace

uint64_t synthetic_model_bytes(const gguf::File& header, int layers) {
    uint64_t bytes = 0;
    for (const gguf::TensorInfo& t : header.tensors()) {
        if (layers < 0 || layer_of(t.name) < layers) bytes += t.n_bytes;
    }
    return bytes;
}

void write_synthetic_model(const gguf::File& header, const std::string& path, int layers) {
    const model::ModelConfig c = header_config(header);
    const int n_layer = c.n_layer;
    const bool cut = layers >= 0 && layers < n_layer;
    const std::string arch_prefix = c.arch + ".";
    gguf::Writer w;
    for (const auto& [key, value] : header.metadata()) {
        const bool per_layer = cut && key.starts_with(arch_prefix) &&
                               value.type == gguf::ValueType::ARRAY &&
                               value.array_size() == (size_t)n_layer;
        if (cut && key == arch_prefix + "block_count") {
            gguf::Value v = value;
            v.i = layers;
            w.set_value(key, v);
        } else {
            w.set_value(key, per_layer ? first_elements(value, (size_t)layers) : value);
        }
    }
    uint64_t seed = 1;
    for (const gguf::TensorInfo& t : header.tensors()) {
        const uint64_t tensor_seed = seed++;
        if (cut && layer_of(t.name) >= layers) continue;
        w.add_tensor(t.name, t.type, t.dims, random_bytes(t, tensor_seed));
    }
    w.write_file(path);
}

SyntheticRun::SyntheticRun(const gguf::File& header, int threads, int n_prompt, int n_gen,
                           int layers)
    : n_gen_(n_gen) {
    std::string path =
        (std::filesystem::temp_directory_path() / "lokal-fit-model-XXXXXX.gguf").string();
    const int fd = ::mkstemps(path.data(), 5);
    if (fd < 0) throw Error("fit: cannot create a temporary file in " + path);
    ::close(fd);
    try {
        write_synthetic_model(header, path, layers);
        model_ = model::Model::load(path, model::RepackCacheParams{});  // no repacked-weights file
    } catch (...) {
        std::filesystem::remove(path);
        throw;
    }
    std::filesystem::remove(path);  // the mapping keeps the pages

    // As cmd_bench.cpp sets up its runs.
    model::ContextParams cp;
    cp.n_ctx = std::max(n_prompt, n_gen) + 8;
    cp.n_threads = threads;
    cp.gpu_layers = 0;
    ctx_ = std::make_unique<model::Context>(*model_, cp);
    std::mt19937 rng(1234);
    prompt_.resize((size_t)n_prompt);
    for (auto& t : prompt_) t = (int32_t)(rng() % (uint32_t)ctx_->n_vocab());
}

SyntheticRun::~SyntheticRun() = default;

namespace {

template <typename F>
double seconds(F&& run) {
    const auto t0 = std::chrono::steady_clock::now();
    run();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

double SyntheticRun::prompt_seconds() {
    return seconds([&] {
        ctx_->truncate(0);
        ctx_->eval(prompt_);
    });
}

double SyntheticRun::token_seconds() {
    return seconds([&] {
               ctx_->truncate(0);
               const int32_t token[1] = {prompt_.empty() ? 1 : prompt_[0]};
               for (int i = 0; i < n_gen_; ++i) ctx_->eval(token);
           }) /
           std::max(1, n_gen_);
}

namespace {

// The median of runs of `sample` (after a warm-up: the repack and the caches), three at least
// and as many as a quarter second takes: a tiny model's pass takes microseconds, and one
// disturbed run must not decide the median; a larger model's runs are long enough alone. A
// sample is the run's time divided by `per_run_weight` (a token of a run of n_gen).
template <typename F>
double median_of_runs(F&& sample, int per_run_weight) {
    sample();
    std::vector<double> v;
    double total = 0;
    while (v.size() < 3 || (total < 0.25 && v.size() < 1000)) {
        v.push_back(sample());
        total += v.back() * per_run_weight;
    }
    return median(v);
}

}  // namespace

ModelTimes time_synthetic_model(const gguf::File& header, int threads, int n_prompt, int n_gen,
                                int layers) {
    SyntheticRun run(header, threads, n_prompt, n_gen, layers);
    ModelTimes t;
    if (n_prompt > 0) t.prompt_seconds = median_of_runs([&] { return run.prompt_seconds(); }, 1);
    if (n_gen > 0) t.token_seconds = median_of_runs([&] { return run.token_seconds(); }, n_gen);
    return t;
}

namespace {

double whole_model_seconds(double few, int a, double more, int b, int n_layer) {
    const double per_layer = std::max(0.0, (more - few) / (b - a));
    return few + (n_layer - a) * per_layer;
}

}  // namespace

ModelTimes extrapolate_layers(const ModelTimes& few, int a, const ModelTimes& more, int b,
                              int n_layer) {
    return {whole_model_seconds(few.prompt_seconds, a, more.prompt_seconds, b, n_layer),
            whole_model_seconds(few.token_seconds, a, more.token_seconds, b, n_layer)};
}

ModelTimes time_model_by_layers(const gguf::File& header, int threads, int n_prompt, int n_gen) {
    const int n_layer = header_config(header).n_layer;
    if (n_layer <= kTimedLayers.second) {
        return time_synthetic_model(header, threads, n_prompt, n_gen);
    }
    const int a = kTimedLayers.first, b = kTimedLayers.second;
    SyntheticRun few(header, threads, n_prompt, n_gen, a),
        more(header, threads, n_prompt, n_gen, b);
    // The two copies run in turns, and each pair gives the whole model's time: the machine's
    // speed drifts over the seconds these runs take, and a pair run apart would see the drift
    // as a difference between the copies, multiplied by the layers it is extrapolated to.
    const auto whole = [&](auto&& sample_few, auto&& sample_more, int per_run_weight) {
        return median_of_runs(
            [&] {
                const double x = sample_few();
                return whole_model_seconds(x, a, sample_more(), b, n_layer);
            },
            per_run_weight);
    };
    ModelTimes t;
    if (n_prompt > 0) {
        t.prompt_seconds =
            whole([&] { return few.prompt_seconds(); }, [&] { return more.prompt_seconds(); }, 1);
    }
    if (n_gen > 0) {
        t.token_seconds =
            whole([&] { return few.token_seconds(); }, [&] { return more.token_seconds(); }, n_gen);
    }
    return t;
}

}  // namespace lokal::fit
