// `lokal bench`: prompt-processing and generation speed, reported like llama-bench so the two
// tables can be read side by side.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>

#include "cli/options.h"
#include "kernels/cpu/vec_dot.h"
#include "model/compute_device.h"
#include "model/context.h"
#include "store/resolve.h"

namespace lokal::cli {
namespace {

struct Stat {
    double mean = 0, stddev = 0;
};

Stat stats(const std::vector<double>& v) {
    Stat s;
    for (double x : v) s.mean += x;
    s.mean /= (double)v.size();
    for (double x : v) s.stddev += (x - s.mean) * (x - s.mean);
    s.stddev = v.size() > 1 ? std::sqrt(s.stddev / (double)(v.size() - 1)) : 0.0;
    return s;
}

double seconds(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int bench_command(const BenchOptions& o) {
    const auto load_start = std::chrono::steady_clock::now();
    auto model = model::Model::load(store::resolve_model(o.model));
    const double load_seconds = seconds(load_start);
    model::ContextParams cp;
    cp.n_ctx = o.depth + std::max(o.n_prompt, o.n_gen) + 8;
    cp.n_threads = o.n_threads;
    cp.kv_type = kv_type_option(o.cache_type);
    cp.kv_rows = cp.n_ctx * std::max(1, o.parallel);
    model::Context ctx(*model, cp);
    const int V = ctx.n_vocab();
    std::mt19937 rng(1234);
    std::vector<int32_t> prompt(o.n_prompt), context(o.depth);
    for (auto& t : prompt) t = (int32_t)(rng() % (uint32_t)V);
    for (auto& t : context) t = (int32_t)(rng() % (uint32_t)V);
    // --n-depth: every test starts after `depth` tokens already in the cache (evaluated once,
    // untimed; each repetition cuts the sequence back to them).
    if (o.depth > 0) ctx.eval(context);

    auto run_pp = [&] {
        ctx.truncate(o.depth);
        auto t0 = std::chrono::steady_clock::now();
        ctx.eval(prompt);
        return o.n_prompt / seconds(t0);
    };
    auto run_tg = [&] {
        ctx.truncate(o.depth);
        int32_t tok[1] = {prompt.empty() ? 1 : prompt[0]};
        auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < o.n_gen; ++i) ctx.eval(tok);
        return o.n_gen / seconds(t0);
    };
    // Continuous batching: o.parallel sequences each generate n_gen tokens, one token of each per
    // forward pass; the rate is the aggregate over all of them.
    auto run_tg_batch = [&] {
        ctx.seq_truncate(0, o.depth);
        for (int s = 1; s < o.parallel; ++s) ctx.seq_copy_prefix(0, s, o.depth);
        std::vector<model::BatchToken> batch;
        batch.reserve(o.parallel);
        for (int s = 0; s < o.parallel; ++s) {
            batch.push_back({prompt.empty() ? 1 : prompt[s % prompt.size()], s, true});
        }
        auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < o.n_gen; ++i) ctx.decode(batch);
        const double rate = (double)o.n_gen * o.parallel / seconds(t0);
        for (int s = 1; s < o.parallel; ++s) ctx.seq_truncate(s, 0);
        return rate;
    };
    struct Row {
        std::string test;
        Stat s;
    };
    std::vector<Row> rows;
    const std::string at_depth = o.depth > 0 ? " @ d" + std::to_string(o.depth) : "";
    if (o.n_prompt > 0) {
        run_pp();  // warm-up: page in the weights
        std::vector<double> v;
        v.reserve(o.reps);
        for (int r = 0; r < o.reps; ++r) v.push_back(run_pp());
        rows.push_back({"pp" + std::to_string(o.n_prompt) + at_depth, stats(v)});
    }
    if (o.n_gen > 0) {
        if (o.n_prompt == 0) run_tg();
        std::vector<double> v;
        v.reserve(o.reps);
        for (int r = 0; r < o.reps; ++r) v.push_back(run_tg());
        rows.push_back({"tg" + std::to_string(o.n_gen) + at_depth, stats(v)});
    }
    if (o.n_gen > 0 && o.parallel > 1) {
        run_tg_batch();
        std::vector<double> v;
        v.reserve(o.reps);
        for (int r = 0; r < o.reps; ++r) v.push_back(run_tg_batch());
        rows.push_back(
            {"tg" + std::to_string(o.n_gen) + " x" + std::to_string(o.parallel) + at_depth,
             stats(v)});
    }

    const gguf::File& f = model->file();
    uint64_t params = 0;
    for (const auto& t : f.tensors()) params += t.n_elements;
    const char* isa = kernels::isa_name(kernels::active_isa());
    const model::ComputeDevice& device = model::compute_device();
    const std::string backend = device.gpu ? std::string("Vulkan") : std::string("CPU ") + isa;
    if (o.json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& r : rows) {
            out.push_back({{"model", model->config().name},
                           {"model_size", f.size()},
                           {"model_n_params", params},
                           {"n_threads", ctx.n_threads()},
                           {"type_k", o.cache_type},
                           {"type_v", o.cache_type},
                           {"n_depth", o.depth},
                           {"isa", isa},
                           {"backend", device.gpu ? "vulkan" : "cpu"},
                           {"device", device.name},
                           {"test", r.test},
                           {"avg_ts", r.s.mean},
                           {"stddev_ts", r.s.stddev},
                           {"reps", o.reps},
                           {"load_s", load_seconds},
                           {"repacked_bytes", model->packed().bytes()}});
        }
        std::printf("%s\n", out.dump(2).c_str());
        return 0;
    }
    std::printf(
        "| model                          |       size |     params | backend    | threads |"
        "            test |                  t/s |\n");
    std::printf(
        "| ------------------------------ | ---------: | ---------: | ---------- | ------: |"
        " --------------: | -------------------: |\n");
    for (const auto& r : rows) {
        char t[64];
        std::snprintf(t, sizeof t, "%.2f ± %.2f", r.s.mean, r.s.stddev);
        std::printf("| %-30.30s | %6.2f MiB | %8.2f M | %-10s | %7d | %15s | %20s |\n",
                    (model->config().arch + " " + model->config().name).c_str(),
                    f.size() / 1048576.0, params / 1e6, backend.c_str(), ctx.n_threads(),
                    r.test.c_str(), t);
    }
    std::printf("\ndevice %s\n", device.name.c_str());
    // What repacking costs: its copies live in anonymous memory in place of the file's pages.
    std::printf("KV cache %s\n", kernels::kv_type_name(cp.kv_type));
    std::printf("load %.2f s; %d matrices repacked into %.2f MiB (in place of their file pages)\n",
                load_seconds, model->packed().matrices(), model->packed().bytes() / 1048576.0);
    return 0;
}

}  // namespace lokal::cli
