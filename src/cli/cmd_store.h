// The model-store subcommands: pull, list, rm, cp, create.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "server/server.h"
#include "store/model_defaults.h"

namespace CLI {
class App;
}

namespace lokal::cli {

// Registers the subcommands on `app`. After parsing, the returned function runs the chosen one
// and returns its exit code, or nullopt when none of them was chosen. Errors are lokal::Error.
// `list` asks a running `lokal serve` at `srv`'s address, when one answers, unless --local.
std::function<std::optional<int>()> add_store_commands(CLI::App& app,
                                                       const server::ServerOptions& srv);

// Like store::resolve_model, but a model name the store lacks is pulled first (with progress
// on stderr), as `ollama run` does.
std::string resolve_or_pull(const std::string& name_or_path);

using store::stored_model_defaults;
using store::StoredModelDefaults;

}  // namespace lokal::cli
