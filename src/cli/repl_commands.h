// The REPL's slash commands, as `ollama run` has them: /set, /show, /load, /save, /clear, /bye,
// /? and /help. Unknown ones are refused, never sent to the model.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cli/line_reader.h"
#include "cli/options.h"
#include "cli/repl.h"
#include "cli/run_session.h"
#include "cli/server_connection.h"

namespace lokal::cli {

struct ReplState {
    const RunOptions& cli;  // as the command line gave them
    const ModelLoader& load;
    LineReader& reader;
    RunOptions options;  // in effect now; the session reads them at each turn
    ModelLease lease;  // none when a server answers
    std::unique_ptr<Conversation> session;
    // What /set parameter changed, as name and value text: /save stores them as PARAMETERs.
    std::vector<std::pair<std::string, std::string>> set_parameters;
    const ServerAddress* server = nullptr;  // the running lokal serve this chat goes through

    server::LoadedModel& model() const { return **lease; }
};

enum class CommandOutcome { Continue, Exit };

// Runs `line`, which starts with '/'; prints what it did, or why not, on stdout.
CommandOutcome run_slash_command(ReplState& st, const std::string& line);

// The /show subcommands (repl_show.cpp).
void show_in_repl(const ReplState& st, const std::string& what);

}  // namespace lokal::cli
