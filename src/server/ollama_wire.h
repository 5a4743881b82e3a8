// Ollama's wire format for /api/generate and /api/chat answers: NDJSON chunks and the final
// object with its counts and durations (docs/api.md in Ollama's repository).
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "chat/tool_call_parser.h"
#include "server/answer_driver.h"

namespace lokal::server {

// Ollama's message object for a (partial or whole) chat answer.
nlohmann::ordered_json ollama_message(const chat::ParsedDelta& d);

// A chunk of a streamed answer (done: false).
nlohmann::ordered_json ollama_chunk(const std::string& model, const chat::ParsedDelta& d,
                                    bool chat);

struct OllamaTimes {
    std::chrono::steady_clock::time_point started;  // the request arrived
    double load_seconds = 0;
};

// The last object (done: true): the text not yet sent, the stop reason, counts and durations, and
// for /api/generate the context (prompt + answer tokens).
nlohmann::ordered_json ollama_final(const std::string& model, const Answer& a, bool chat,
                                    const OllamaTimes& times);

class OllamaCodec : public AnswerCodec {
  public:
    OllamaCodec(std::string model, bool chat, OllamaTimes times)
        : model_(std::move(model)), chat_(chat), times_(times) {}
    const char* stream_content_type() const override { return "application/x-ndjson"; }
    std::string delta(const chat::ParsedDelta& d, const Piece& piece) override;
    std::string end(const Answer& tail) override;
    std::string error(const std::string& message) override;
    std::string whole(const Answer& answer) override;

  private:
    std::string model_;
    bool chat_;
    OllamaTimes times_;
};

}  // namespace lokal::server
