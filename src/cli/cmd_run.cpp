// `lokal run`: one-shot generation (prompt from -p or stdin) or an interactive chat.
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <optional>
#include <random>
#include <sstream>

#include "base/error.h"
#include "chat/builtin_format.h"
#include "cli/cmd_store.h"
#include "cli/options.h"
#include "engine/generator.h"
#include "jinja/chat_template.h"
#include "model/context.h"
#include "store/resolve.h"
#include "tokenizer/tokenizer.h"

namespace lokal::cli {
namespace {

std::atomic<bool> g_interrupted{false};

void on_sigint(int) {
    g_interrupted.store(true);
}

void install_sigint_handler() {
    struct sigaction sa {};
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: a blocked read returns so the prompt can be redrawn
    sigaction(SIGINT, &sa, nullptr);
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

bool write_out(std::string_view s) {
    std::fwrite(s.data(), 1, s.size(), stdout);
    std::fflush(stdout);
    return true;
}

void print_stats(const engine::GenerateStats& s, int n_threads) {
    const double pp = s.prompt_seconds > 0 ? s.prompt_tokens / s.prompt_seconds : 0;
    const double tg = s.generate_seconds > 0 ? s.generated_tokens / s.generate_seconds : 0;
    std::fprintf(stderr,
                 "\nprompt: %d tokens in %.3f s (%.1f tok/s) | generation: %d tokens in %.3f s "
                 "(%.1f tok/s) | threads %d | stop: %s\n",
                 s.prompt_tokens, s.prompt_seconds, pp, s.generated_tokens, s.generate_seconds, tg,
                 n_threads, engine::stop_reason_name(s.reason));
}

std::string read_all_stdin() {
    std::ostringstream ss;
    ss << std::cin.rdbuf();
    return ss.str();
}

// Holds the conversation and the tokens already in the context, so each turn only evaluates
// what is new.
class ChatSession {
  public:
    ChatSession(model::Context& ctx, const RunOptions& o, chat::ChatFamily family)
        : ctx_(ctx), opts_(o), family_(family), sampler_(sampling_params(o), ctx.n_vocab()) {
        if (!o.system.empty()) messages_.push_back({"system", o.system});
        if (!o.raw) {
            try {
                const auto source = ctx.model().file().get_string("tokenizer.chat_template");
                if (source && !source->empty()) template_ = jinja::Template::parse(*source);
            } catch (const Error& e) {
                std::fprintf(stderr,
                             "lokal: the model's chat template does not parse (%s); using "
                             "the built-in format\n",
                             e.what());
            }
        }
    }

    engine::GenerateStats answer(const std::string& user_text, const std::atomic<bool>* cancel) {
        messages_.push_back({"user", user_text});
        const bool raw = family_ == chat::ChatFamily::None && !template_;
        const std::string prompt_text = raw ? user_text : render_conversation();
        const tokenizer::Tokenizer& tok = ctx_.model().tokenizer();
        // A template that writes the BOS text itself gets no second BOS from the tokenizer.
        const bool has_bos_text = tok.bos() >= 0 && !tok.token_text(tok.bos()).empty() &&
                                  prompt_text.starts_with(tok.token_text(tok.bos()));
        std::vector<int32_t> tokens = tok.encode(prompt_text, !has_bos_text, !raw);
        if (raw) {
            // Plain continuation: the context continues from what it holds.
            tokens = ctx_.model().tokenizer().encode(prompt_text, ctx_tokens_.empty(), false);
            tokens.insert(tokens.begin(), ctx_tokens_.begin(), ctx_tokens_.end());
        }
        size_t common = 0;
        while (common < tokens.size() && common < ctx_tokens_.size() &&
               tokens[common] == ctx_tokens_[common]) {
            ++common;
        }
        if (common == tokens.size() && common > 0) --common;  // re-evaluate one to get logits
        common = (size_t)ctx_.truncate((int)common);
        ctx_tokens_.resize(common);
        std::span<const int32_t> fresh(tokens.data() + common, tokens.size() - common);

        engine::GenerateOptions go;
        go.max_tokens = opts_.n_predict;
        go.stop = opts_.stop;
        for (auto& s : chat::stop_strings(family_)) {
            // Turn markers are special tokens, which are not printed: stop on the token itself.
            if (auto id = ctx_.model().tokenizer().find_token(s)) {
                go.stop_tokens.push_back(*id);
            } else {
                go.stop.push_back(s);
            }
        }
        std::string answer_text;
        auto stats = engine::generate(
            ctx_, sampler_, fresh, go,
            [&](std::string_view piece) {
                answer_text += piece;
                return write_out(piece);
            },
            cancel);
        ctx_tokens_.insert(ctx_tokens_.end(), fresh.begin(), fresh.end());
        ctx_tokens_.insert(ctx_tokens_.end(), stats.tokens.begin(), stats.tokens.end());
        // A token sampled last was not evaluated yet; the context holds n_past tokens.
        ctx_tokens_.resize(std::min<size_t>(ctx_tokens_.size(), ctx_.n_past()));
        messages_.push_back({"assistant", answer_text});
        return stats;
    }

    void clear() {
        messages_.clear();
        if (!opts_.system.empty()) messages_.push_back({"system", opts_.system});
        ctx_tokens_.clear();
        ctx_.truncate(0);
        sampler_.reset();
    }

  private:
    // The model's own chat template when it has one that parses, else the built-in format.
    std::string render_conversation() const {
        if (!template_) return chat::render(family_, messages_);
        const tokenizer::Tokenizer& tok = ctx_.model().tokenizer();
        jinja::ChatTemplateInputs in;
        for (const auto& m : messages_)
            in.messages.push_back({{"role", m.role}, {"content", m.content}});
        if (tok.bos() >= 0) in.bos_token = tok.token_text(tok.bos());
        if (tok.eos() >= 0) in.eos_token = tok.token_text(tok.eos());
        return jinja::render_chat(*template_, in);
    }

    model::Context& ctx_;
    const RunOptions& opts_;
    chat::ChatFamily family_;
    std::optional<jinja::Template> template_;
    sampling::Sampler sampler_;
    std::vector<chat::Message> messages_;
    std::vector<int32_t> ctx_tokens_;
};

// Reads one user message; """ starts and ends a multi-line message. False on end of input.
bool read_user_message(std::string& out) {
    out.clear();
    std::string line;
    std::fputs(">>> ", stdout);
    std::fflush(stdout);
    for (;;) {
        if (!std::getline(std::cin, line)) {
            if (g_interrupted.exchange(false)) {
                std::cin.clear();
                std::fputs("\nUse Ctrl+D or /bye to exit.\n>>> ", stdout);
                std::fflush(stdout);
                continue;
            }
            return false;
        }
        if (line.rfind("\"\"\"", 0) == 0) {
            std::string body = line.substr(3);
            for (;;) {
                const auto end = body.find("\"\"\"");
                if (end != std::string::npos) {
                    out += body.substr(0, end);
                    return true;
                }
                out += body + "\n";
                std::fputs("... ", stdout);
                std::fflush(stdout);
                if (!std::getline(std::cin, body)) return !out.empty();
            }
        }
        out = line;
        return true;
    }
}

int interactive_chat(model::Context& ctx, const RunOptions& o, chat::ChatFamily family) {
    install_sigint_handler();
    ChatSession session(ctx, o, family);
    std::fprintf(
        stderr,
        "Chatting with %s. Type /bye or Ctrl+D to exit, /clear to start over, "
        "\"\"\" for multi-line input.\n",
        ctx.model().config().name.empty() ? o.model.c_str() : ctx.model().config().name.c_str());
    std::string msg;
    while (read_user_message(msg)) {
        if (msg == "/bye" || msg == "/exit") break;
        if (msg == "/clear") {
            session.clear();
            std::puts("Cleared the conversation.");
            continue;
        }
        if (msg == "/?" || msg == "/help") {
            std::puts(
                "/clear  forget the conversation\n/bye    exit\n\"\"\"    begin/end multi-line "
                "input");
            continue;
        }
        if (msg.empty()) continue;
        g_interrupted.store(false);
        try {
            auto stats = session.answer(msg, &g_interrupted);
            write_out("\n\n");
            if (o.verbose) print_stats(stats, ctx.n_threads());
        } catch (const Error& e) {
            std::fprintf(stderr, "\nlokal: error: %s\n", e.what());
        }
        g_interrupted.store(false);
    }
    std::fputc('\n', stdout);
    return 0;
}

// A stored model's Modelfile (PARAMETER, SYSTEM) supplies what the command line left unset.
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
}

}  // namespace

int run_command(const RunOptions& given) {
    RunOptions o = given;
    auto model = model::Model::load(resolve_or_pull(o.model));
    apply_stored_defaults(o);
    model::ContextParams cp;
    cp.n_ctx = o.n_ctx;
    cp.n_threads = o.n_threads;
    cp.kv_type = kv_type_option(o.cache_type);
    model::Context ctx(*model, cp);
    const chat::ChatFamily family =
        o.raw ? chat::ChatFamily::None : chat::detect_family(model->file());

    std::optional<std::string> prompt = o.prompt;
    if (!prompt && !isatty(STDIN_FILENO)) prompt = read_all_stdin();
    if (!prompt) return interactive_chat(ctx, o, family);

    ChatSession session(ctx, o, family);
    auto stats = session.answer(*prompt, nullptr);
    write_out("\n");
    if (o.verbose) print_stats(stats, ctx.n_threads());
    return 0;
}

}  // namespace lokal::cli
