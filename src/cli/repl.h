// The interactive chat of `lokal run MODEL` (no prompt, stdin a terminal), like `ollama run`:
// line editing and history, """ multi-line messages, and slash commands (repl_commands.h).
#pragma once

#include <functional>
#include <memory>

#include "cli/options.h"
#include "server/model_manager.h"

namespace lokal::cli {

using ModelLease = std::unique_ptr<server::ModelManager::Lease>;
// Loads `o.model` the way `lokal run` does (pulling it if needed, its stored PARAMETERs and SYSTEM
// filling in `o`); throws lokal::Error.
using ModelLoader = std::function<ModelLease(RunOptions& o)>;

// `cli` are the options as the command line gave them (/load starts from them), `o` those in
// effect for the model `lease` holds. Returns the exit code.
int run_repl(const RunOptions& cli, const RunOptions& o, ModelLease lease, const ModelLoader& load);

struct ServerAddress;
// The same chat through a running `lokal serve` (server_session.h): /load, /save and /show ask it.
int run_server_repl(const RunOptions& o, const ServerAddress& server);

}  // namespace lokal::cli
