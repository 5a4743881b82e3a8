#include "cli/server_session.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "base/error.h"
#include "cli/repl.h"

namespace lokal::cli {

namespace {

using json = nlohmann::json;

std::string read_text(const std::string& path) {
    std::ifstream in(path);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// --format: "json", or a JSON schema inline or in a file.
json format_field(const std::string& format) {
    if (format == "json") return "json";
    const std::string text = std::filesystem::is_regular_file(format) ? read_text(format) : format;
    json schema = json::parse(text, nullptr, false);
    if (schema.is_discarded()) throw Error("--format is neither json nor a JSON schema");
    return schema;
}

}  // namespace

json options_given(const RunOptions& o) {
    json opts = json::object();
    auto given = [&](const char* flag) { return o.given.count(flag) > 0; };
    if (given("--num-predict")) opts["num_predict"] = o.n_predict;
    if (given("--temperature")) opts["temperature"] = o.temperature;
    if (given("--top-k")) opts["top_k"] = o.top_k;
    if (given("--top-p")) opts["top_p"] = o.top_p;
    if (given("--min-p")) opts["min_p"] = o.min_p;
    if (given("--repeat-penalty")) opts["repeat_penalty"] = o.repeat_penalty;
    if (given("--seed") && o.seed) opts["seed"] = *o.seed;
    if (given("--ctx") && o.n_ctx > 0) opts["num_ctx"] = o.n_ctx;
    if (!o.stop.empty()) opts["stop"] = o.stop;
    return opts;
}

ServerSession::ServerSession(ServerAddress server, const RunOptions& o)
    : server_(std::move(server)), o_(o), messages_(nlohmann::ordered_json::array()) {}

json ServerSession::request(const nlohmann::ordered_json& conversation) const {
    json messages = json::array();
    if (!o_.system.empty()) messages.push_back({{"role", "system"}, {"content", o_.system}});
    for (const auto& m : conversation) messages.push_back(json::parse(m.dump()));
    json body = {{"model", o_.model}, {"messages", messages}, {"stream", true}};
    if (json opts = options_given(o_); !opts.empty()) body["options"] = opts;
    if (o_.format) body["format"] = format_field(*o_.format);
    if (!o_.keep_alive.empty()) body["keep_alive"] = o_.keep_alive;
    if (o_.hide_thinking && o_.think.empty()) {
        body["think"] = true;
    } else if (o_.think == "true" || o_.think == "false") {
        body["think"] = o_.think == "true";
    } else if (!o_.think.empty()) {
        body["think"] = o_.think;
    }
    return body;
}

engine::SequenceResult ServerSession::answer(const std::string& user_text) {
    nlohmann::ordered_json conversation = messages_;
    conversation.push_back({{"role", "user"}, {"content", user_text}});
    AnswerPrinter printer(!o_.hide_thinking);
    engine::SequenceResult r;
    stream_from_server(server_, "/api/chat", request(conversation), [&](const json& line) {
        if (line.contains("message") && line["message"].is_object()) {
            const json& m = line["message"];
            chat::ParsedDelta d;
            d.reasoning = m.value("thinking", "");
            d.content = m.value("content", "");
            printer.print(d);
        }
        if (line.value("done", false)) {
            r.stats.prompt_tokens = line.value("prompt_eval_count", 0);
            r.stats.generated_tokens = line.value("eval_count", 0);
        }
        return !g_interrupted.load();  // Ctrl-C ends the request; the server stops generating
    });
    conversation.push_back({{"role", "assistant"}, {"content", printer.answer()}});
    messages_ = std::move(conversation);
    return r;
}

void ServerSession::clear() {
    messages_ = nlohmann::ordered_json::array();
}

int run_through_server(const ServerAddress& a, const RunOptions& o) {
    nlohmann::json shown;
    try {
        shown = call_server(a, "POST", "/api/show", {{"model", o.model}});
    } catch (const Error& e) {
        if (e.kind() != ErrorKind::NotFound) throw;
        std::fprintf(stderr, "%s is not on the server yet; pulling it\n", o.model.c_str());
        call_server(a, "POST", "/api/pull", {{"model", o.model}, {"stream", false}});
        shown = call_server(a, "POST", "/api/show", {{"model", o.model}});
    }
    std::optional<std::string> prompt = o.prompt;  // as the in-process run reads it
    if (!prompt && !isatty(STDIN_FILENO)) {
        std::ostringstream ss;
        ss << std::cin.rdbuf();
        prompt = ss.str();
    }
    if (!prompt) {
        // The stored MESSAGEs, shown when the chat starts; the server itself replays them.
        RunOptions with_history = o;
        with_history.history.clear();
        if (shown.contains("messages") && shown["messages"].is_array()) {
            for (const auto& m : shown["messages"]) {
                with_history.history.emplace_back(m.value("role", ""), m.value("content", ""));
            }
        }
        return run_server_repl(with_history, a);
    }
    install_sigint_handler();
    ServerSession session(a, o);
    session.answer(*prompt);
    write_out("\n");
    return 0;
}

}  // namespace lokal::cli
