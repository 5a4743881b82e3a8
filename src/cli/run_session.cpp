#include "cli/run_session.h"

#include <chrono>
#include <csignal>
#include <cstdio>
#include <random>
#include <thread>

#include "base/error.h"
#include "base/thread_pool.h"
#include "chat/builtin_format.h"
#include "chat/prompt.h"
#include "server/completion.h"
#include "server/generation_request.h"
#include "server/http_error.h"
#include "server/structured_output.h"
#include "tokenizer/tokenizer.h"

namespace lokal::cli {

std::atomic<bool> g_interrupted{false};

namespace {

void on_sigint(int) {
    g_interrupted.store(true);
}

sampling::SamplingParams sampling_params(const RunOptions& o) {
    sampling::SamplingParams p;
    p.temperature = o.temperature;
    p.top_k = o.top_k;
    p.top_p = o.top_p;
    p.min_p = o.min_p;
    p.repeat_penalty = o.repeat_penalty;
    p.seed = o.seed ? *o.seed : std::random_device{}();
    return p;
}

// A token's text as JSON writes a string: quoted, with control characters escaped.
std::string quoted(const std::string& text) {
    return nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Prints each generated token's logprob and its most likely alternatives (--logprobs), after the
// answer.
void print_logprobs(const std::vector<server::Piece>& pieces, const tokenizer::Tokenizer& tok) {
    std::fputs("\nlogprobs:\n", stderr);
    for (const server::Piece& p : pieces) {
        if (p.token < 0) continue;
        std::fprintf(stderr, "%9.4f  %-16s", p.logprob, quoted(tok.decode({p.token})).c_str());
        for (const engine::TokenLogprob& t : p.top) {
            std::fprintf(stderr, "  %.4f %s", t.logprob, quoted(tok.decode({t.token})).c_str());
        }
        std::fputc('\n', stderr);
    }
}

// --format (json, a schema file or inline schema) and --grammar (a GBNF file) as the server's
// structured output takes them; nullptr for free text.
std::shared_ptr<const grammar::Grammar> output_grammar(const RunOptions& o) {
    nlohmann::ordered_json body = nlohmann::ordered_json::object();
    if (o.format) {
        const std::string& f = *o.format;
        if (f == "json") {
            body["format"] = "json";
        } else {
            const std::string text = f.starts_with("{") ? f : read_text_file(f);
            body["format"] = nlohmann::ordered_json::parse(text, nullptr, false);
            if (body["format"].is_discarded()) {
                throw Error("--format: '" + f + "' is neither json nor a JSON schema");
            }
        }
    }
    if (o.grammar) body["grammar"] = read_text_file(*o.grammar);
    try {
        return server::ollama_format(body);
    } catch (const server::HttpError& e) {
        throw Error(std::string("--format/--grammar: ") + e.what());
    }
}

// Prints an answer as it streams: reasoning (--think) under "Thinking...", then the answer,
// as Ollama's CLI shows it. Keeps the answer's text for the conversation.

}  // namespace

void install_sigint_handler() {
    struct sigaction sa {};
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: a blocked read returns so the prompt can be redrawn
    sigaction(SIGINT, &sa, nullptr);
    // A parent may have started us with SIGINT blocked (ctest does); Ctrl-C must still reach us.
    sigset_t interrupt;
    sigemptyset(&interrupt);
    sigaddset(&interrupt, SIGINT);
    pthread_sigmask(SIG_UNBLOCK, &interrupt, nullptr);
}

int threads_used(const RunOptions& o) {
    return o.n_threads > 0 ? o.n_threads : ThreadPool::default_threads();
}

void write_out(std::string_view s) {
    std::fwrite(s.data(), 1, s.size(), stdout);
    std::fflush(stdout);
}

void print_stats(const engine::GenerateStats& s, int n_threads) {
    const double pp = s.prompt_seconds > 0 ? s.prompt_tokens / s.prompt_seconds : 0;
    const double tg = s.generate_seconds > 0 ? s.generated_tokens / s.generate_seconds : 0;
    std::fprintf(stderr,
                 "\nprompt: %d tokens in %.3f s (%.1f tok/s) | generation: %d tokens in %.3f s "
                 "(%.1f tok/s) | threads %d | stop: %s\n",
                 s.prompt_tokens, s.prompt_seconds, pp, s.generated_tokens, s.generate_seconds, tg,
                 n_threads, engine::stop_reason_name(s.reason));
    if (s.draft_tokens > 0) {
        std::fprintf(stderr, "speculative decoding: %d of %d guessed tokens kept (%.0f%%)\n",
                     s.draft_accepted, s.draft_tokens, 100.0 * s.draft_accepted / s.draft_tokens);
    }
}

Session::Session(server::LoadedModel& m, const RunOptions& o)
    : m_(m),
      o_(o),
      raw_(o.raw || (m.prompt_format.family == chat::ChatFamily::None &&
                     !m.prompt_format.tmpl.jinja && !m.prompt_format.tmpl.go)),
      grammar_(output_grammar(o)),
      think_(o.think.empty() && o.hide_thinking ? "true" : o.think) {
    if (!think_.empty() && think_ != "false" && !server::can_think(m)) {
        throw Error("'" + o.model + "' does not support thinking; run it without --think");
    }
    clear();
    for (const auto& [role, content] : o.history) {
        messages_.push_back({{"role", role}, {"content", content}});
    }
}

engine::SequenceResult Session::answer(const std::string& user_text) {
    server::GenerationParams params;
    params.sampling = sampling_params(o_);
    params.generate.max_tokens = o_.n_predict;
    params.generate.stop = o_.stop;
    params.n_ctx = o_.n_ctx;
    std::vector<int32_t> prompt;
    server::OutputState output;  // everything is content unless --think splits it
    if (raw_) {
        // Plain continuation: the text goes on from what it holds.
        prompt = context_;
        const auto fresh = m_.model->tokenizer().encode(user_text, context_.empty(), false);
        prompt.insert(prompt.end(), fresh.begin(), fresh.end());
    } else {
        // A chat that outgrew the context forgets its oldest turns (the system prompt stays).
        messages_.push_back({{"role", "user"}, {"content", user_text}});
        chat::FittedChat fit = render();
        if (!think_.empty()) {
            output =
                server::OutputState(m_.chat_template, false, reasoning_mode(), fit.prompt.text);
        }
        if (fit.dropped > 0 && o_.verbose) {
            std::fprintf(stderr, "[the context is full: dropped the %d oldest messages]\n",
                         fit.dropped);
        }
        messages_ = std::move(fit.messages);
        prompt = std::move(fit.tokens);
        params.generate.stop.insert(params.generate.stop.end(), fit.prompt.stop.begin(),
                                    fit.prompt.stop.end());
    }
    engine::SequenceRequest extra;
    if (grammar_) server::constrain_request(m_, grammar_, extra);
    std::shared_ptr<server::CompletionStream> stream;
    try {
        stream = server::start_completion(m_, std::move(prompt), params, o_.logprobs, extra);
    } catch (const server::HttpError& e) {
        throw Error(e.what());
    }
    std::atomic<bool> done{false};
    std::thread watch([&] {  // Ctrl-C cancels the request within one step
        while (!done.load()) {
            if (g_interrupted.load()) stream->cancel();
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    });
    AnswerPrinter printer(!o_.hide_thinking);
    std::vector<server::Piece> pieces, all;
    while (stream->next(pieces)) {
        for (server::Piece& p : pieces) {
            printer.print(output.feed(p.text));
            if (o_.logprobs >= 0) all.push_back(std::move(p));
        }
    }
    printer.print(output.finish());
    const std::string& text = printer.answer();
    done.store(true);
    watch.join();
    const engine::SequenceResult& r = stream->result();
    if (!r.error.empty()) throw Error(r.error);
    if (o_.logprobs >= 0) print_logprobs(all, m_.model->tokenizer());
    if (raw_) {
        context_ = r.context;
    } else {
        messages_.push_back({{"role", "assistant"}, {"content", text}});
    }
    return r;
}

void Session::clear() {
    messages_ = nlohmann::ordered_json::array();
    if (!o_.system.empty()) messages_.push_back({{"role", "system"}, {"content", o_.system}});
    context_.clear();
}

chat::FittedChat Session::render() const {
    const int n_ctx = m_.scheduler->context_for(o_.n_ctx);
    const nlohmann::ordered_json vars =
        think_.empty() ? nlohmann::ordered_json()
                       : nlohmann::ordered_json{{"enable_thinking", think_ != "false"}};
    return chat::fit_chat_prompt(m_.prompt_format, m_.model->tokenizer(), messages_, nullptr, n_ctx,
                                 true, think_.empty() ? nullptr : &vars);
}

chat::ReasoningMode Session::reasoning_mode() const {
    if (think_ == "false") return chat::ReasoningMode::Inline;
    return o_.hide_thinking ? chat::ReasoningMode::Strip : chat::ReasoningMode::Separate;
}

void Session::update_format() {
    grammar_ = output_grammar(o_);
}

}  // namespace lokal::cli
