// Talking to a running `lokal serve` from the CLI (ps, stop, and run and list when a server
// answers): where it is (LOKAL_HOST or OLLAMA_HOST, default 127.0.0.1:11434), plain and streamed
// JSON requests.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "server/server.h"

namespace lokal::cli {

struct ServerAddress {
    std::string host;
    int port = 11434;
    std::string api_key;
    std::string url() const { return "http://" + host + ":" + std::to_string(port); }
};

// The address `lokal serve` with these options listens on, as seen from this machine.
ServerAddress address_of(const server::ServerOptions& srv);

// The address when a lokal (or Ollama) server answers there within a second, else nullopt.
std::optional<ServerAddress> running_server(const server::ServerOptions& srv);

// The JSON answer; lokal::Error with the server's message for an error status, or naming the
// address when nothing answers.
nlohmann::json call_server(const ServerAddress& a, const std::string& method,
                           const std::string& path, const nlohmann::json& body = nullptr);

// POSTs `body` and calls `on_line` with each NDJSON line of the streamed answer as it comes
// (returning false stops the stream). Errors as call_server, also for a line with "error".
void stream_from_server(const ServerAddress& a, const std::string& path, const nlohmann::json& body,
                        const std::function<bool(const nlohmann::json&)>& on_line);

}  // namespace lokal::cli
