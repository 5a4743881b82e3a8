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

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

}  // namespace

void write_synthetic_model(const gguf::File& header, const std::string& path) {
    gguf::Writer w;
    for (const auto& [key, value] : header.metadata()) w.set_value(key, value);
    uint64_t seed = 1;
    for (const gguf::TensorInfo& t : header.tensors()) {
        w.add_tensor(t.name, t.type, t.dims, random_bytes(t, seed++));
    }
    w.write_file(path);
}

ModelTimes time_synthetic_model(const gguf::File& header, int threads, int n_prompt, int n_gen) {
    std::string path =
        (std::filesystem::temp_directory_path() / "lokal-fit-model-XXXXXX.gguf").string();
    const int fd = ::mkstemps(path.data(), 5);
    if (fd < 0) throw Error("fit: cannot create a temporary file in " + path);
    ::close(fd);
    std::unique_ptr<model::Model> model;
    try {
        write_synthetic_model(header, path);
        model = model::Model::load(path, model::RepackCacheParams{});  // no repacked-weights file
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
    model::Context ctx(*model, cp);
    std::mt19937 rng(1234);
    std::vector<int32_t> prompt((size_t)n_prompt);
    for (auto& t : prompt) t = (int32_t)(rng() % (uint32_t)ctx.n_vocab());
    const auto seconds = [](auto&& run) {
        const auto t0 = std::chrono::steady_clock::now();
        run();
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    };
    const auto prompt_run = [&] {
        ctx.truncate(0);
        ctx.eval(prompt);
    };
    const auto generation_run = [&] {
        ctx.truncate(0);
        const int32_t token[1] = {prompt.empty() ? 1 : prompt[0]};
        for (int i = 0; i < n_gen; ++i) ctx.eval(token);
    };
    // A tiny model's pass takes microseconds: runs repeat for a quarter second, so that one
    // disturbed run does not decide the median; a larger model's runs are long enough alone.
    const auto runs = [&](auto&& run, int per_run) {
        run();  // warm-up: the repack and the caches
        std::vector<double> v;
        double total = 0;
        while (v.size() < 3 || (total < 0.25 && v.size() < 1000)) {
            v.push_back(seconds(run));
            total += v.back();
        }
        return median(v) / per_run;
    };
    ModelTimes t;
    if (n_prompt > 0) t.prompt_seconds = runs(prompt_run, 1);
    if (n_gen > 0) t.token_seconds = runs(generation_run, n_gen);
    return t;
}

}  // namespace lokal::fit
