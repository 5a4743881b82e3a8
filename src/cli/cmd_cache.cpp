#include "cli/cmd_cache.h"

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <string>

#include "engine/prompt_cache_store.h"
#include "model/repack_cache.h"
#include "server/model_manager.h"

namespace lokal::cli {

namespace {

std::string human_bytes(uint64_t b) {
    char buf[32];
    if (b >= (1ull << 30)) {
        std::snprintf(buf, sizeof buf, "%.1f GB", (double)b / (1ull << 30));
    } else if (b >= (1ull << 20)) {
        std::snprintf(buf, sizeof buf, "%.1f MB", (double)b / (1ull << 20));
    } else {
        std::snprintf(buf, sizeof buf, "%.1f KB", (double)b / (1ull << 10));
    }
    return buf;
}

std::string age(std::filesystem::file_time_type t) {
    const auto s = std::chrono::duration_cast<std::chrono::seconds>(
                       std::filesystem::file_time_type::clock::now() - t)
                       .count();
    if (s < 120) return std::to_string(std::max<long long>(0, s)) + " seconds ago";
    if (s < 7200) return std::to_string(s / 60) + " minutes ago";
    if (s < 172800) return std::to_string(s / 3600) + " hours ago";
    return std::to_string(s / 86400) + " days ago";
}

std::string cache_dir() {
    std::string dir = server::default_prompt_cache_dir();
    if (dir.empty()) throw Error("neither LOKAL_CACHE_DIR nor HOME is set; no prompt cache");
    return dir;
}

int list_command() {
    const auto files = engine::list_prompt_cache(cache_dir());
    std::printf("%-40s %-30s %-6s %8s %10s  %s\n", "NAME", "MODEL", "KV", "TOKENS", "SIZE",
                "MODIFIED");
    for (const auto& f : files) {
        std::printf("%-40s %-30s %-6s %8zu %10s  %s\n", f.name.c_str(),
                    f.model.empty() ? "(unreadable)" : f.model.substr(0, 30).c_str(),
                    f.kv_type.c_str(), f.n_tokens, human_bytes(f.bytes).c_str(),
                    age(f.modified).c_str());
    }
    const auto repacked = model::list_repack_cache(cache_dir());
    if (!repacked.empty()) {
        std::printf("\n%-76s %10s  %s\n", "REPACKED WEIGHTS", "SIZE", "MODIFIED");
        for (const auto& f : repacked) {
            std::printf("%-76s %10s  %s\n", f.name.c_str(), human_bytes(f.bytes).c_str(),
                        age(f.modified).c_str());
        }
    }
    return 0;
}

int clear_command() {
    const int n = engine::clear_prompt_cache(cache_dir());
    const int r = model::clear_repack_cache(cache_dir());
    std::printf("removed %d snapshot%s and %d repacked weight file%s\n", n, n == 1 ? "" : "s", r,
                r == 1 ? "" : "s");
    return 0;
}

}  // namespace

std::function<std::optional<int>()> add_cache_commands(CLI::App& app) {
    auto* cache = app.add_subcommand(
        "cache", "The persistent prompt cache (KV snapshots) and the repacked weights");
    cache->require_subcommand(1);
    auto* ls = cache->add_subcommand(
        "ls", "List the snapshots (model, tokens, size, age) and repacked weights");
    ls->alias("list");
    auto* clear = cache->add_subcommand("clear", "Remove every snapshot and repacked weight file");
    return [ls, clear]() -> std::optional<int> {
        if (*ls) return list_command();
        if (*clear) return clear_command();
        return std::nullopt;
    };
}

}  // namespace lokal::cli
