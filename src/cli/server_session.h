// A `lokal run` conversation through a running `lokal serve`: each turn is a streamed /api/chat
// request carrying the conversation so far, so the server's copy of the model answers and its
// stored SYSTEM, TEMPLATE, PARAMETERs and MESSAGEs apply there (no second copy is loaded).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "cli/options.h"
#include "cli/run_session.h"
#include "cli/server_connection.h"

namespace lokal::cli {

class ServerSession : public Conversation {
  public:
    // Reads `o` at each turn (model, system, the options the user gave or /set).
    ServerSession(ServerAddress server, const RunOptions& o);

    engine::SequenceResult answer(const std::string& user_text) override;
    void clear() override;
    void update_format() override {}  // read at each turn
    const nlohmann::ordered_json& messages() const override { return messages_; }
    bool raw() const override { return false; }

  private:
    nlohmann::json request(const nlohmann::ordered_json& conversation) const;

    ServerAddress server_;
    const RunOptions& o_;
    nlohmann::ordered_json messages_;  // user and assistant turns (the system prompt is o_'s)
};

// The request options the user asked for (flags given on the command line or by /set
// parameter), as /api/chat's "options"; the server's stored PARAMETERs fill in the rest.
nlohmann::json options_given(const RunOptions& o);

// `lokal run` through the server at `a`: one-shot (a prompt, or stdin not a terminal) or the
// interactive chat. Pulls the model through the server first when it lacks it.
int run_through_server(const ServerAddress& a, const RunOptions& o);

}  // namespace lokal::cli
