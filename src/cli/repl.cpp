#include "cli/repl.h"

#include <cstdio>
#include <optional>
#include <string>

#include "base/error.h"
#include "cli/line_reader.h"
#include "cli/repl_commands.h"
#include "cli/run_session.h"
#include "cli/server_session.h"

namespace lokal::cli {
namespace {

constexpr std::string_view kQuotes = "\"\"\"";

// Reads one entry: a line, or, when a line opens a """ block, everything up to the closing """
// (the quotes themselves dropped), so both messages and `/set system """..."""` may span lines.
// Nullopt at the end of input.
std::optional<std::string> read_entry(LineReader& reader) {
    for (;;) {
        std::optional<std::string> line = reader.read(">>> ");
        if (!line) {
            if (!g_interrupted.exchange(false)) return std::nullopt;
            std::fputs("\nUse Ctrl + d or /bye to exit.\n", stdout);
            continue;
        }
        const size_t open = line->find(kQuotes);
        if (open == std::string::npos) return line;
        std::string text = *line;
        size_t close = text.find(kQuotes, open + kQuotes.size());
        while (close == std::string::npos) {
            const std::optional<std::string> more = reader.read("... ");
            if (!more) {
                g_interrupted.store(false);
                break;
            }
            text += "\n" + *more;
            close = text.find(kQuotes, open + kQuotes.size());
        }
        if (close != std::string::npos) text.erase(close, kQuotes.size());
        text.erase(open, kQuotes.size());
        return text;
    }
}

void answer(ReplState& st, const std::string& message) {
    g_interrupted.store(false);
    try {
        const engine::SequenceResult r = st.session->answer(message);
        write_out("\n\n");
        if (st.options.verbose) print_stats(r.stats, threads_used(st.options));
    } catch (const Error& e) {
        std::fprintf(stderr, "\nlokal: error: %s\n", e.what());
    }
    g_interrupted.store(false);
}

// The stored MESSAGEs the chat starts from, shown as if they had been typed and answered, as
// Ollama shows them.
void show_history(const RunOptions& o) {
    for (const auto& [role, content] : o.history) {
        if (role == "user") {
            write_out(">>> " + content + "\n");
        } else if (role == "assistant") {
            write_out(content + "\n\n");
        }
    }
}

int chat_loop(ReplState& st, LineReader& reader, const std::string& name) {
    std::fprintf(stderr,
                 "Chatting with %s. Type /? for help, /bye or Ctrl+D to exit, \"\"\" for "
                 "multi-line input.\n",
                 name.c_str());
    if (!st.session->raw()) show_history(st.options);
    while (const std::optional<std::string> entry = read_entry(reader)) {
        reader.remember(*entry);
        if (entry->starts_with('/')) {
            if (run_slash_command(st, *entry) == CommandOutcome::Exit) return 0;
            continue;
        }
        if (entry->find_first_not_of(" \t\n") == std::string::npos) continue;
        answer(st, *entry);
    }
    std::fputc('\n', stdout);
    return 0;
}

}  // namespace

int run_repl(const RunOptions& cli, const RunOptions& o, ModelLease lease,
             const ModelLoader& load) {
    install_sigint_handler();
    LineReader reader;
    ReplState st{cli, load, reader, o, std::move(lease), nullptr, {}, nullptr};
    st.session = std::make_unique<Session>(st.model(), st.options);
    const std::string& name = st.model().model->config().name;
    return chat_loop(st, reader, name.empty() ? o.model : name);
}

int run_server_repl(const RunOptions& o, const ServerAddress& server) {
    install_sigint_handler();
    LineReader reader;
    const ModelLoader no_loader;
    ReplState st{o, no_loader, reader, o, nullptr, nullptr, {}, &server};
    st.session = std::make_unique<ServerSession>(server, st.options);
    return chat_loop(st, reader, o.model);
}

}  // namespace lokal::cli
