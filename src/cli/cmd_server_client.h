// `lokal ps` and `lokal stop`: ask the running `lokal serve` (at the address serve listens on:
// LOKAL_HOST or OLLAMA_HOST, default 127.0.0.1:11434) which models it holds, or to unload one.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <optional>

#include "server/server.h"

namespace lokal::cli {

// Registers the commands; the returned function runs the one that was given (nullopt: neither).
std::function<std::optional<int>()> add_server_client_commands(CLI::App& app,
                                                               const server::ServerOptions& srv);

}  // namespace lokal::cli
