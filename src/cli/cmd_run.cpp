// `lokal run`: one-shot generation (prompt from -p or stdin) or an interactive chat, on the path a
// `lokal serve` request takes: the server's model manager with one slot loads the model (its
// stored TEMPLATE, SYSTEM and PARAMETERs included), chat/prompt.cpp renders the conversation,
// and each turn is a request on the model's batch scheduler, printed as its tokens come. So
// structured output (--format, --grammar) and logprobs work here as they do over HTTP.
// The conversation is run_session.h's; the interactive chat is repl.h's. When a `lokal serve`
// answers (LOKAL_HOST), the run goes through it instead (server_session.h), unless --local or an
// option only this path has asks for it.
#include <unistd.h>

#include <iostream>
#include <optional>
#include <sstream>

#include "base/error.h"
#include "cli/cmd_store.h"
#include "cli/options.h"
#include "cli/repl.h"
#include "cli/run_session.h"
#include "cli/server_session.h"
#include "server/model_manager.h"

namespace lokal::cli {
namespace {

std::string read_all_stdin() {
    std::ostringstream ss;
    ss << std::cin.rdbuf();
    return ss.str();
}

// A stored model's Modelfile (PARAMETER, SYSTEM, MESSAGE) supplies what the command line left unset.
void apply_stored_defaults(RunOptions& o) {
    const StoredModelDefaults d = stored_model_defaults(o.model);
    const nlohmann::json& p = d.parameters;
    auto unset = [&](const char* flag) { return o.given.count(flag) == 0; };
    auto num = [&](const char* key, auto& field, const char* flag) {
        if (p.contains(key) && p[key].is_number() && unset(flag)) {
            field = p[key].get<std::decay_t<decltype(field)>>();
        }
    };
    num("temperature", o.temperature, "--temperature");
    num("top_k", o.top_k, "--top-k");
    num("top_p", o.top_p, "--top-p");
    num("min_p", o.min_p, "--min-p");
    num("repeat_penalty", o.repeat_penalty, "--repeat-penalty");
    num("num_ctx", o.n_ctx, "--ctx");
    num("num_predict", o.n_predict, "--num-predict");
    if (p.contains("seed") && p["seed"].is_number_integer() && unset("--seed")) {
        o.seed = p["seed"].get<uint64_t>();
    }
    if (p.contains("stop") && p["stop"].is_array()) {
        for (const auto& s : p["stop"]) {
            if (s.is_string()) o.stop.push_back(s.get<std::string>());
        }
    }
    if (d.system && unset("--system")) o.system = *d.system;
    o.history.clear();
    for (const auto& m : d.messages) {
        o.history.emplace_back(m["role"].get<std::string>(), m["content"].get<std::string>());
    }
}

}  // namespace

int run_command(const RunOptions& given, const server::ServerOptions& srv) {
    // A running `lokal serve` answers instead of a second copy of the model in this process.
    if (!given.local) {
        if (const std::optional<ServerAddress> a = running_server(srv)) {
            return run_through_server(*a, given);
        }
    }
    // The server's model manager with one slot: the same loading (stored TEMPLATE, SYSTEM,
    // PARAMETERs), prompt rendering and scheduler a request to `lokal serve` gets.
    RunOptions o = given;
    resolve_or_pull(o.model);
    apply_stored_defaults(o);  // for its num_ctx; the loader applies them to each model it loads
    server::ServerModelParams sp;
    sp.n_parallel = 1;
    sp.n_ctx = o.n_ctx > 0 ? o.n_ctx : 4096;
    sp.n_threads = o.n_threads;
    sp.kv_type = kv_type_option(o.cache_type);
    sp.draft_max = o.draft_max;
    sp.draft = o.draft;
    sp.strict_draft = true;
    sp.max_loaded = 1;
    sp.allow_paths = true;  // the local user's own files
    sp.log_loads = o.verbose;
    server::ModelManager manager(sp);
    const ModelLoader load = [&](RunOptions& opts) {
        resolve_or_pull(opts.model);
        apply_stored_defaults(opts);
        ModelLease loaded = manager.acquire(opts.model, -1.0);
        if (!(*loaded)->scheduler) {
            throw Error("'" + opts.model + "' is an embedding model; use lokal embed");
        }
        return loaded;
    };
    o = given;
    ModelLease lease = load(o);

    std::optional<std::string> prompt = o.prompt;
    if (!prompt && !isatty(STDIN_FILENO)) prompt = read_all_stdin();
    if (!prompt) return run_repl(given, o, std::move(lease), load);

    install_sigint_handler();
    Session session(**lease, o);
    const engine::SequenceResult r = session.answer(*prompt);
    write_out("\n");
    if (o.verbose) print_stats(r.stats, threads_used(o));
    return 0;
}

}  // namespace lokal::cli
