// llama-server's wire format for /completion-shaped answers (its /infill answers so): one object
// with content, stop, stop_type, token counts and timings, or server-sent events `data: {...}`
// carrying a piece each and then that object with stop: true.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "server/answer_driver.h"

namespace lokal::server {

// "eos", "word" (a stop string), "limit" (n_predict or the context), "none" (cancelled).
const char* llama_server_stop_type(engine::StopReason r);

struct LlamaServerEnvelope {
    std::string model;
    std::string prompt;  // the prompt as the model saw it, special tokens written out
    bool return_tokens = false;
};

// The last (or only) object of an answer. `tokens` are the answer's ids when asked for.
nlohmann::ordered_json llama_server_final(const LlamaServerEnvelope& e, const Answer& a,
                                          const nlohmann::ordered_json& tokens);

class LlamaServerCodec : public AnswerCodec {
  public:
    explicit LlamaServerCodec(LlamaServerEnvelope envelope) : env_(std::move(envelope)) {}
    const char* stream_content_type() const override { return "text/event-stream"; }
    std::string delta(const chat::ParsedDelta& d, const Piece& piece) override;
    std::string end(const Answer& tail) override;
    std::string error(const std::string& message) override;
    std::string whole(const Answer& answer) override;

  private:
    LlamaServerEnvelope env_;
};

// llama-server's error object: {"error": {"code", "message", "type"}}.
nlohmann::ordered_json llama_server_error(int status, const std::string& message);

}  // namespace lokal::server
