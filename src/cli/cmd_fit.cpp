#include "cli/cmd_fit.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/thread_pool.h"
#include "cli/model_header.h"
#include "cli/options.h"
#include "fit/cache_residency.h"
#include "fit/calibration.h"
#include "fit/memory_estimate.h"
#include "fit/speed_estimate.h"
#include "fit/synthetic_model.h"
#include "gguf/file_summary.h"

namespace lokal::cli {
namespace {

using nlohmann::json;

struct FitArgs {
    std::string model;
    int n_ctx = 0;
    int parallel = 1;
    int n_threads = 0;
    std::string cache_type = "f16";
    std::string device = "cpu";
    std::string budget;
    bool json = false;
    bool insecure = false;
    bool no_speed = false;
};

std::string mib(uint64_t b) {
    char buf[32];
    if (b >= (10ull << 30)) {
        std::snprintf(buf, sizeof buf, "%.2f GiB", (double)b / (1ull << 30));
    } else {
        std::snprintf(buf, sizeof buf, "%.1f MiB", (double)b / (1 << 20));
    }
    return buf;
}

// The context sizes worth listing against a budget: powers of two from 2048 to the training
// context, and the one asked for.
std::vector<int> candidate_contexts(const gguf::File& f, int asked) {
    const std::string arch = f.get_string("general.architecture").value_or("");
    const int64_t train = f.get_int(arch + ".context_length").value_or(4096);
    std::vector<int> out;
    for (int64_t n = 2048; n <= std::max<int64_t>(train, 2048); n *= 2) out.push_back((int)n);
    if (train > 2048 && (train & (train - 1)) != 0) out.push_back((int)train);
    if (asked > 0) out.push_back(asked);
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

json memory_json(const fit::MemoryEstimate& e) {
    json types = json::array();
    for (const auto& s : e.by_type) {
        types.push_back({{"type", std::string(dtype_name(s.type))},
                         {"tensors", s.tensors},
                         {"bytes", s.bytes}});
    }
    return {{"n_ctx", e.n_ctx},
            {"kv_rows", e.kv_rows},
            {"n_batch", e.n_batch},
            {"weights_by_type", types},
            {"weight_bytes", e.weight_bytes},
            {"resident_weight_bytes", e.resident_weight_bytes},
            {"repacked_bytes", e.repacked_bytes},
            {"embedding_bytes", e.embedding_bytes},
            {"embedding_resident_bytes", e.embedding_resident_bytes},
            {"kv_bytes", e.kv_bytes},
            {"activation_bytes", e.activation_bytes},
            {"logits_bytes", e.logits_bytes},
            {"scratch_bytes", e.scratch_bytes},
            {"compute_bytes", e.compute_bytes()},
            {"metadata_bytes", e.metadata_bytes},
            {"runtime_bytes", e.runtime_bytes},
            {"device_bytes", e.device_bytes},
            {"peak_rss_bytes", e.peak_rss}};
}

void print_memory(const fit::MemoryEstimate& e, bool gpu) {
    auto row = [](const char* k, const std::string& v) {
        std::printf("  %-20s %s\n", k, v.c_str());
    };
    std::printf("Memory\n");
    row("weights (file)", mib(e.weight_bytes));
    for (const auto& s : e.by_type) {
        std::printf("    %-8s %5d tensors  %s\n", std::string(dtype_name(s.type)).c_str(),
                    s.tensors, mib(s.bytes).c_str());
    }
    row("weights (resident)",
        mib(e.resident_weight_bytes) +
            (e.repacked_bytes ? " (" + mib(e.repacked_bytes) + " repacked, replacing file pages)"
                              : "") +
            (e.embedding_bytes ? "; token embedding in the file, " +
                                     mib(e.embedding_resident_bytes) + " of it paged in by lookups"
                               : ""));
    row("KV cache", mib(e.kv_bytes) + " (" + std::to_string(e.kv_rows) + " positions)");
    row("compute buffers", mib(e.compute_bytes()) + " (activations " + mib(e.activation_bytes) +
                               ", logits " + mib(e.logits_bytes) + ", scratch " +
                               mib(e.scratch_bytes) + ")");
    row("metadata, runtime", mib(e.metadata_bytes) + ", " + mib(e.runtime_bytes));
    if (gpu) row("device memory", mib(e.device_bytes));
    row("peak RSS", mib(e.peak_rss));
}

int fit_command(const FitArgs& a) {
    const uint64_t baseline = fit::process_baseline_bytes();
    const ModelHeader h = open_model_header(a.model, a.insecure);
    const gguf::File& f = *h.file;
    fit::FitParams p;
    p.n_ctx = a.n_ctx;
    p.parallel = a.parallel;
    p.kv_type = kv_type_option(a.cache_type);
    p.gpu = a.device.starts_with("vulkan");
    const fit::MemoryEstimate e = fit::estimate_memory(f, p, baseline);

    uint64_t budget = fit::available_memory_bytes();
    const bool budget_given = !a.budget.empty();
    if (budget_given) {
        const auto b = parse_byte_size(a.budget);
        if (!b) throw Error("--budget: not a size (e.g. 8G, 512M): '" + a.budget + "'");
        budget = *b;
    }
    struct Row {
        int n_ctx;
        uint64_t rss;
    };
    std::vector<Row> rows;
    for (int n : candidate_contexts(f, a.n_ctx)) {
        fit::FitParams q = p;
        q.n_ctx = n;
        rows.push_back({n, fit::estimate_memory(f, q, baseline).peak_rss});
    }
    // Largest context that fits first.
    std::stable_sort(rows.begin(), rows.end(), [&](const Row& x, const Row& y) {
        const bool fx = x.rss <= budget, fy = y.rss <= budget;
        return fx != fy ? fx : (fx ? x.n_ctx > y.n_ctx : x.n_ctx < y.n_ctx);
    });

    std::optional<fit::SpeedEstimate> speed;
    int threads = a.n_threads > 0 ? a.n_threads : ThreadPool::default_threads();
    int measured = 0;
    if (!a.no_speed) {
        const auto path = fit::default_calibration_path();
        const uint64_t available = fit::available_memory_bytes();
        const bool whole = fit::timed_whole(f, available);
        if (whole || fit::timed_by_layers(f, available)) {
            try {
                const fit::ModelTimes t = fit::calibrate_model(
                    f, threads, path, &measured, [whole](const gguf::File& header, int n) {
                        return whole ? fit::time_synthetic_model(header, n)
                                     : fit::time_model_by_layers(header, n);
                    });
                speed = fit::SpeedEstimate{512 / t.prompt_seconds, 1 / t.token_seconds};
            } catch (const Error& err) {
                std::fprintf(stderr,
                             "fit: could not time a copy of the model (%s); predicting "
                             "from the kernels' rates instead\n",
                             err.what());
            }
        }
        if (!speed) {
            const auto speeds = fit::calibrate(fit::matrix_types(f), threads, path, &measured);
            int ops_measured = 0;
            const fit::OpSpeed ops =
                fit::calibrate_ops(fit::header_config(f).head_dim, threads, path, &ops_measured);
            measured += ops_measured;
            speed = fit::estimate_speed(f, speeds, ops, threads, 512, 128);
        }
    }

    if (a.json) {
        json j = {{"model", a.model},
                  {"source", h.source},
                  {"parameters", gguf::parameter_count(f)},
                  {"quantization", gguf::quantization_name(f)},
                  {"memory", memory_json(e)},
                  {"budget_bytes", budget},
                  {"fits", e.peak_rss <= budget}};
        if (h.source == "registry") j["bytes_read"] = h.bytes_read;
        json ranked = json::array();
        for (const Row& r : rows)
            ranked.push_back(
                {{"n_ctx", r.n_ctx}, {"peak_rss_bytes", r.rss}, {"fits", r.rss <= budget}});
        j["contexts"] = ranked;
        if (speed) {
            j["speed"] = {{"threads", threads},
                          {"calibrated_now", measured},
                          {"pp512_tokens_per_s", speed->pp_tokens_per_s},
                          {"tg128_tokens_per_s", speed->tg_tokens_per_s}};
        }
        std::printf("%s\n", j.dump(2).c_str());
        return 0;
    }
    std::printf("Model    %s (%s): %s, %s parameters, %s\n", a.model.c_str(), h.source.c_str(),
                f.get_string("general.architecture").value_or("?").c_str(),
                gguf::human_count((double)gguf::parameter_count(f)).c_str(),
                gguf::quantization_name(f).c_str());
    std::printf("Context  %d positions x %d sequence(s), KV cache %s, batch %d\n\n", e.n_ctx,
                std::max(1, a.parallel), a.cache_type.c_str(), e.n_batch);
    print_memory(e, p.gpu);
    if (speed) {
        std::printf("\nSpeed (CPU, %d threads%s)\n", threads,
                    measured ? ", calibrated now" : ", calibration cached");
        std::printf("  %-20s %.1f tokens/s\n", "prompt (pp512)", speed->pp_tokens_per_s);
        std::printf("  %-20s %.1f tokens/s\n", "generation (tg128)", speed->tg_tokens_per_s);
    }
    std::printf("\nBudget %s (%s): %s\n", mib(budget).c_str(),
                budget_given ? "--budget" : "available memory",
                e.peak_rss <= budget ? "fits" : "does not fit");
    std::printf("  %-10s %-14s %s\n", "context", "peak RSS", "fits");
    for (const Row& r : rows) {
        std::printf("  %-10d %-14s %s\n", r.n_ctx, mib(r.rss).c_str(),
                    r.rss <= budget ? "yes" : "no");
    }
    return 0;
}

}  // namespace

std::optional<uint64_t> parse_byte_size(const std::string& text) {
    size_t used = 0;
    double v = 0;
    try {
        v = std::stod(text, &used);
    } catch (const std::exception&) {
        return std::nullopt;
    }
    std::string unit = text.substr(used);
    for (char& c : unit) c = (char)std::toupper((unsigned char)c);
    if (unit.ends_with("IB")) unit.resize(unit.size() - 2);
    if (unit.ends_with("B") && unit.size() > 1) unit.pop_back();
    const std::pair<const char*, double> units[] = {{"", 1},
                                                    {"B", 1},
                                                    {"K", 1024.0},
                                                    {"M", 1048576.0},
                                                    {"G", 1073741824.0},
                                                    {"T", 1099511627776.0}};
    for (const auto& [name, scale] : units) {
        if (unit == name && v >= 0 && std::isfinite(v)) return (uint64_t)(v * scale);
    }
    return std::nullopt;
}

std::function<std::optional<int>()> add_fit_command(CLI::App& app) {
    auto a = std::make_shared<FitArgs>();
    auto* cmd = app.add_subcommand(
        "fit", "Memory a model needs and its predicted speed here, from its header alone");
    cmd->add_option("model", a->model, "Model file, stored model or registry reference")
        ->required();
    cmd->add_option("--ctx", a->n_ctx,
                    "Context positions per sequence (default: the model's, "
                    "at most 4096)")
        ->check(CLI::Range(0, 1 << 24));
    cmd->add_option("--parallel", a->parallel, "Sequences sharing the KV cache")
        ->check(CLI::Range(1, 1024));
    cmd->add_option("-t,--threads", a->n_threads, "Threads (0: one per physical core)");
    cmd->add_option("--cache-type", a->cache_type, "KV cache type: f16 (default), q8_0 or f32");
    cmd->add_option("--device", a->device, "cpu (default) or vulkan: where weights and KV live")
        ->check(CLI::IsMember({"cpu", "vulkan"}));
    cmd->add_option("--budget", a->budget,
                    "Memory to fit in (e.g. 8G; default: this machine's available memory)");
    cmd->add_flag("--no-speed", a->no_speed, "Skip the speed prediction (and its calibration)");
    cmd->add_flag("--insecure", a->insecure, "Plain http to the registry");
    cmd->add_flag("--json", a->json, "JSON output");
    return [a, cmd]() -> std::optional<int> {
        if (*cmd) return fit_command(*a);
        return std::nullopt;
    };
}

}  // namespace lokal::cli
