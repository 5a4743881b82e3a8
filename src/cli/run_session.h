// A `lokal run` conversation on a loaded model: each turn is one request on the model's batch
// scheduler, printed as its tokens come (shared by the one-shot prompt and the interactive REPL).
#pragma once

#include <atomic>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "chat/prompt.h"
#include "chat/tool_call_parser.h"
#include "cli/options.h"
#include "engine/batch_scheduler.h"
#include "server/model_manager.h"

namespace lokal::grammar {
class Grammar;
}

namespace lokal::cli {

// Set by Ctrl-C (after install_sigint_handler); a running answer stops at its next token.
extern std::atomic<bool> g_interrupted;
void install_sigint_handler();

int threads_used(const RunOptions& o);
void write_out(std::string_view s);
void print_stats(const engine::GenerateStats& s, int n_threads);

// Prints an answer as it comes: the reasoning between "Thinking..." and "...done thinking." (as
// `ollama run` does), unless hidden, then the content; keeps the content.
class AnswerPrinter {
  public:
    explicit AnswerPrinter(bool show_thinking) : show_thinking_(show_thinking) {}
    void print(const chat::ParsedDelta& d) {
        if (!d.reasoning.empty() && show_thinking_) {
            if (!thinking_) write_out("Thinking...\n");
            thinking_ = true;
            write_out(d.reasoning);
        }
        if (d.content.empty()) return;
        if (thinking_) write_out("\n...done thinking.\n\n");
        thinking_ = false;
        write_out(d.content);
        answer_ += d.content;
    }
    const std::string& answer() const { return answer_; }

  private:
    bool show_thinking_;
    bool thinking_ = false;
    std::string answer_;
};

// A `lokal run` conversation: in this process (Session) or through a running server
// (ServerSession, server_session.h). The REPL and the one-shot run talk to either.
class Conversation {
  public:
    virtual ~Conversation() = default;
    // Runs one turn, printing the answer as it comes; Ctrl-C (g_interrupted) stops it.
    virtual engine::SequenceResult answer(const std::string& user_text) = 0;
    // Forgets the conversation; it starts again from the system prompt, if any.
    virtual void clear() = 0;
    // Re-reads --format/--grammar from the options.
    virtual void update_format() = 0;
    // The conversation so far (system, user and assistant messages; empty when raw).
    virtual const nlohmann::ordered_json& messages() const = 0;
    virtual bool raw() const = 0;
};

// A conversation (or, raw, a growing text) on the model's batch scheduler: each turn is one
// request, the way a server request runs; the scheduler's prefix cache keeps what earlier turns
// evaluated, so a turn only evaluates what is new. Reads `o` at each turn, so changes to it
// (the REPL's /set parameter) apply to the next answer.
class Session : public Conversation {
  public:
    // The conversation starts with the system prompt and the stored MESSAGEs (o.history).
    Session(server::LoadedModel& m, const RunOptions& o);

    // Runs one turn, printing the answer as it comes; Ctrl-C (g_interrupted) stops it.
    engine::SequenceResult answer(const std::string& user_text) override;
    // Forgets the conversation, the stored MESSAGEs too (as Ollama's /clear); it starts again
    // from the system prompt, if any.
    void clear() override;
    // Re-reads --format/--grammar from the options.
    void update_format() override;

    // The conversation so far (system, user and assistant messages; empty when raw).
    const nlohmann::ordered_json& messages() const override { return messages_; }
    bool raw() const override { return raw_; }

  private:
    chat::FittedChat render() const;
    chat::ReasoningMode reasoning_mode() const;

    server::LoadedModel& m_;
    const RunOptions& o_;
    bool raw_;
    std::shared_ptr<const grammar::Grammar> grammar_;
    std::string think_;  // as --think gave it ("true" for --hidethinking); empty: not given
    nlohmann::ordered_json messages_;
    std::vector<int32_t> context_;  // raw: the tokens so far (prompt and answers)
};

}  // namespace lokal::cli
