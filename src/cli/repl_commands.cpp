#include "cli/repl_commands.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string_view>

#include "base/error.h"
#include "cli/server_session.h"
#include "store/create.h"
#include "store/store.h"

namespace lokal::cli {
namespace {

void say(const std::string& text) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
}

// The first word of `text` (split at spaces) and the rest, leading spaces dropped.
std::pair<std::string, std::string> split_word(std::string_view text) {
    const size_t start = text.find_first_not_of(' ');
    if (start == std::string_view::npos) return {};
    text.remove_prefix(start);
    const size_t end = text.find_first_of(" \n");
    if (end == std::string_view::npos) return {std::string(text), {}};
    std::string_view rest = text.substr(end + 1);
    const size_t next = rest.find_first_not_of(' ');
    rest = next == std::string_view::npos ? std::string_view() : rest.substr(next);
    return {std::string(text.substr(0, end)), std::string(rest)};
}

constexpr const char* kHelp =
    "Available Commands:\n"
    "  /set            Set session variables\n"
    "  /show           Show model information\n"
    "  /load <model>   Load a model (the conversation starts over)\n"
    "  /save <model>   Save the conversation as a new model\n"
    "  /clear          Clear the conversation\n"
    "  /bye            Exit\n"
    "  /?, /help       Help for a command\n"
    "  /? shortcuts    Help for keyboard shortcuts\n"
    "\n"
    "Use \"\"\" to begin a multi-line message.";

constexpr const char* kSetHelp =
    "Available Commands:\n"
    "  /set parameter ...     Set a parameter\n"
    "  /set system <string>   Set the system message (the conversation starts over)\n"
    "  /set history           Enable history\n"
    "  /set nohistory         Disable history\n"
    "  /set wordwrap          Accepted; lokal does not wrap lines\n"
    "  /set nowordwrap        Accepted; lokal does not wrap lines\n"
    "  /set format json       Enable JSON mode\n"
    "  /set noformat          Disable formatting\n"
    "  /set verbose           Show timings after each answer\n"
    "  /set quiet             Hide timings";

constexpr const char* kParameterHelp =
    "Available Parameters:\n"
    "  /set parameter seed <int>             Random number seed\n"
    "  /set parameter num_predict <int>      Max number of tokens to predict (-1: no limit)\n"
    "  /set parameter top_k <int>            Pick from top k num of tokens\n"
    "  /set parameter top_p <float>          Pick token based on sum of probabilities\n"
    "  /set parameter min_p <float>          Pick token based on top token probability * min_p\n"
    "  /set parameter num_ctx <int>          Set the context size\n"
    "  /set parameter temperature <float>    Set creativity level\n"
    "  /set parameter repeat_penalty <float> How strongly to penalize repetitions\n"
    "  /set parameter stop <string> ...      Set the stop parameters";

constexpr const char* kShowHelp =
    "Available Commands:\n"
    "  /show info         Show details for this model\n"
    "  /show license      Show model license\n"
    "  /show parameters   Show parameters for this model\n"
    "  /show system       Show system message\n"
    "  /show template     Show prompt template";

constexpr const char* kShortcuts =
    "Available keyboard shortcuts:\n"
    "  Ctrl + a            Move to the beginning of the line (Home)\n"
    "  Ctrl + e            Move to the end of the line (End)\n"
    "   Alt + b            Move back (left) one word\n"
    "   Alt + f            Move forward (right) one word\n"
    "  Ctrl + k            Delete the text after the cursor\n"
    "  Ctrl + u            Delete the text before the cursor\n"
    "  Ctrl + w            Delete the word before the cursor\n"
    "  Up / Down           Previous / next line from the history\n"
    "\n"
    "  Ctrl + l            Clear the screen\n"
    "  Ctrl + c            Stop the model from responding\n"
    "  Ctrl + d            Exit lokal (/bye)";

template <typename T>
bool parse_number(const std::string& text, T& out) {
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, out);
    return ec == std::errc() && ptr == end;
}

// Sets one parameter in `o`; the message says what happened, or why not.
std::string set_parameter(RunOptions& o, const std::string& name, const std::string& value) {
    auto set_int = [&](int& field) {
        return parse_number(value, field) ? "" : "'" + value + "' is not an integer";
    };
    auto set_float = [&](float& field) {
        return parse_number(value, field) ? "" : "'" + value + "' is not a number";
    };
    std::string problem;
    if (name == "temperature") {
        problem = set_float(o.temperature);
    } else if (name == "top_k") {
        problem = set_int(o.top_k);
    } else if (name == "top_p") {
        problem = set_float(o.top_p);
    } else if (name == "min_p") {
        problem = set_float(o.min_p);
    } else if (name == "repeat_penalty") {
        problem = set_float(o.repeat_penalty);
    } else if (name == "num_predict") {
        problem = set_int(o.n_predict);
    } else if (name == "num_ctx") {
        problem = set_int(o.n_ctx);
    } else if (name == "seed") {
        uint64_t seed = 0;
        if (parse_number(value, seed)) {
            o.seed = seed;
        } else {
            problem = "'" + value + "' is not a non-negative integer";
        }
    } else if (name == "stop") {
        o.stop.clear();
        std::istringstream words(value);
        for (std::string w; words >> w;) o.stop.push_back(w);
    } else {
        return "Couldn't set parameter: unknown parameter '" + name +
               "'. Type /set parameter for the list.";
    }
    if (!problem.empty()) return "Couldn't set parameter '" + name + "': " + problem;
    return "Set parameter '" + name + "' to '" + value + "'";
}

// The command-line flag a /set parameter stands for (RunOptions::given names flags).
std::string flag_of_parameter(const std::string& name) {
    if (name == "num_ctx") return "--ctx";
    if (name == "num_predict") return "--num-predict";
    std::string flag = "--" + name;
    std::replace(flag.begin(), flag.end(), '_', '-');
    return flag;
}

void set_command(ReplState& st, const std::string& args) {
    const auto [what, rest] = split_word(args);
    RunOptions& o = st.options;
    if (what == "parameter") {
        const auto [name, value] = split_word(rest);
        if (name.empty() || value.empty()) return say(kParameterHelp);
        const std::string result = set_parameter(o, name, value);
        if (result.starts_with("Set ")) {
            st.set_parameters.emplace_back(name, value);
            o.given.insert(flag_of_parameter(name));  // sent to a server as a request option
        }
        say(result);
    } else if (what == "system") {
        if (rest.empty()) return say("Usage: /set system <string>");
        o.system = rest;
        st.session->clear();
        say("Set system message.");
    } else if (what == "verbose" || what == "quiet") {
        o.verbose = what == "verbose";
        say(o.verbose ? "Set 'verbose' mode." : "Set 'quiet' mode.");
    } else if (what == "history" || what == "nohistory") {
        st.reader.set_history_enabled(what == "history");
        say(what == "history" ? "History enabled." : "History disabled.");
    } else if (what == "wordwrap" || what == "nowordwrap") {
        say("Set '" + what + "' mode (lokal does not wrap lines).");
    } else if (what == "format") {
        if (rest != "json")
            return say("Invalid or missing format. For 'json' mode use '/set format json'");
        o.format = "json";
        st.session->update_format();
        say("Set format to 'json' mode.");
    } else if (what == "noformat") {
        o.format.reset();
        st.session->update_format();
        say("Disabled format.");
    } else if (what.empty()) {
        say(kSetHelp);
    } else {
        say("Unknown command '/set " + what + "'. Type /? for help");
    }
}

// /load through a server: the next turns name the other model (the server loads it).
void load_on_server(ReplState& st, const std::string& name) {
    try {
        call_server(*st.server, "POST", "/api/show", {{"model", name}});
    } catch (const Error& e) {
        return say(std::string("Couldn't load the model: ") + e.what());
    }
    st.options = st.cli;
    st.options.model = name;
    st.set_parameters.clear();
    st.session = std::make_unique<ServerSession>(*st.server, st.options);
}

// /save through a server: it creates the model in its store.
void save_on_server(ReplState& st, const std::string& name) {
    nlohmann::json body = {{"model", name}, {"from", st.options.model}, {"stream", false}};
    if (!st.options.system.empty()) body["system"] = st.options.system;
    nlohmann::json params = nlohmann::json::object();
    for (const auto& [key, value] : st.set_parameters) {
        const nlohmann::json v = nlohmann::json::parse(value, nullptr, false);
        params[key] = v.is_discarded() || v.is_object() || v.is_array() ? nlohmann::json(value) : v;
    }
    if (!params.empty()) body["parameters"] = params;
    nlohmann::json messages = nlohmann::json::array();
    for (const auto& m : st.session->messages()) {
        const std::string role = m.value("role", "");
        if (role == "user" || role == "assistant") {
            messages.push_back({{"role", role}, {"content", m.value("content", "")}});
        }
    }
    if (!messages.empty()) body["messages"] = messages;
    try {
        call_server(*st.server, "POST", "/api/create", body);
        say("Created new model '" + name + "'");
    } catch (const Error& e) {
        say(std::string("Couldn't save the model: ") + e.what());
    }
}

void load_command(ReplState& st, const std::string& name) {
    if (name.empty()) return say("Usage: /load <model>");
    say("Loading model '" + name + "'");
    if (st.server) return load_on_server(st, name);
    RunOptions next = st.cli;
    next.model = name;
    RunOptions previous = st.options;
    st.session.reset();
    st.lease.reset();  // one model at a time: the old one goes first
    try {
        st.lease = st.load(next);
        st.options = next;
        st.set_parameters.clear();
    } catch (const Error& e) {
        std::fprintf(stderr, "lokal: error: %s\n", e.what());
        st.lease = st.load(previous);
    }
    st.session = std::make_unique<Session>(st.model(), st.options);
}

void save_command(ReplState& st, const std::string& name) {
    if (name.empty()) return say("Usage: /save <modelname>");
    if (st.server) return save_on_server(st, name);
    store::Modelfile mf;
    mf.from = st.options.model;
    if (!st.options.system.empty()) mf.system = st.options.system;
    mf.parameters = st.set_parameters;
    for (const auto& m : st.session->messages()) {
        const std::string role = m.value("role", "");
        if (role == "user" || role == "assistant") {
            mf.messages.emplace_back(role, m.value("content", ""));
        }
    }
    try {
        store::Store s = store::Store::open_default();
        store::create_model(s, name, mf, std::filesystem::current_path(),
                            store::PathAccess::Allowed);
        say("Created new model '" + name + "'");
    } catch (const Error& e) {
        say(std::string("Couldn't save the model: ") + e.what());
    }
}

}  // namespace

CommandOutcome run_slash_command(ReplState& st, const std::string& line) {
    const auto [command, args] = split_word(line);
    if (command == "/bye" || command == "/exit") return CommandOutcome::Exit;
    if (command == "/clear") {
        st.session->clear();
        say("Cleared session context");
    } else if (command == "/?" || command == "/help") {
        if (args == "shortcuts" || args == "shortcut") {
            say(kShortcuts);
        } else if (args == "set") {
            say(kSetHelp);
        } else if (args == "show") {
            say(kShowHelp);
        } else {
            say(kHelp);
        }
    } else if (command == "/set") {
        set_command(st, args);
    } else if (command == "/show") {
        if (args.empty()) {
            say(kShowHelp);
        } else {
            show_in_repl(st, args);
        }
    } else if (command == "/load") {
        load_command(st, args);
    } else if (command == "/save") {
        save_command(st, args);
    } else {
        say("Unknown command '" + command + "'. Type /? for help");
    }
    return CommandOutcome::Continue;
}

}  // namespace lokal::cli
