#include "cli/cmd_server_client.h"

#include <httplib.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "base/error.h"
#include "cli/server_connection.h"

namespace lokal::cli {

namespace {

using json = nlohmann::json;

std::string human_size(double bytes) {
    const char* units[] = {"B", "KB", "MB", "GB", "TB"};
    int u = 0;
    while (bytes >= 1000 && u < 4) {
        bytes /= 1000;
        ++u;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
    return buf;
}

// "4 minutes from now", "Forever" (keep_alive < 0), "Stopping..." once past.
std::string until(const std::string& iso) {
    std::tm tm{};
    if (!strptime(iso.c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) return iso;
    const std::time_t t = timegm(&tm);
    const double left = std::difftime(t, std::time(nullptr));
    if (left > 100.0 * 365 * 24 * 3600) return "Forever";
    if (left <= 0) return "Stopping...";
    if (left < 60) return "Less than a minute from now";
    const long minutes = (long)(left / 60);
    if (minutes < 120) return std::to_string(minutes) + " minutes from now";
    return std::to_string(minutes / 60) + " hours from now";
}

int ps_command(const ServerAddress& a) {
    const json r = call_server(a, "GET", "/api/ps");
    std::printf("%-30s %-14s %-10s %-10s %-9s %s\n", "NAME", "ID", "SIZE", "PROCESSOR", "CONTEXT",
                "UNTIL");
    for (const json& m : r.value("models", json::array())) {
        const std::string digest = m.value("digest", "");
        const std::string context =
            m.contains("context_length") ? std::to_string(m["context_length"].get<long>()) : "-";
        std::printf("%-30s %-14s %-10s %-10s %-9s %s\n", m.value("name", "").c_str(),
                    digest.substr(0, 12).c_str(), human_size(m.value("size", 0.0)).c_str(),
                    "100% CPU", context.c_str(), until(m.value("expires_at", "")).c_str());
    }
    return 0;
}

int stop_command(const ServerAddress& a, const std::string& model) {
    call_server(a, "POST", "/api/generate", {{"model", model}, {"keep_alive", 0}});
    return 0;
}

}  // namespace

std::function<std::optional<int>()> add_server_client_commands(CLI::App& app,
                                                               const server::ServerOptions& srv) {
    auto* ps = app.add_subcommand("ps", "List the models a running lokal serve has loaded");
    auto model = std::make_shared<std::string>();
    auto* stop = app.add_subcommand("stop", "Unload a model from a running lokal serve");
    stop->add_option("model", *model, "Model name")->required();
    return [ps, stop, model, &srv]() -> std::optional<int> {
        if (*ps) return ps_command(address_of(srv));
        if (*stop) return stop_command(address_of(srv), *model);
        return std::nullopt;
    };
}

}  // namespace lokal::cli
