// Anthropic's wire format for Messages answers: the message object with its content blocks
// (thinking, text, tool_use), and the server-sent events of a stream (message_start,
// content_block_start/delta/stop, message_delta, message_stop).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "chat/tool_call_parser.h"
#include "server/answer_driver.h"

namespace lokal::server {

struct AnthropicEnvelope {
    std::string id;  // msg_...
    std::string model;
    std::vector<std::string> stop_sequences;  // the client's own
};

// end_turn, max_tokens, stop_sequence (one of the client's) or tool_use; with the sequence that
// matched, or null.
std::pair<std::string, nlohmann::ordered_json> anthropic_stop(const AnthropicEnvelope& e,
                                                              const Answer& a);
nlohmann::ordered_json anthropic_usage(const CompletionStream& s);
// A tool call as a tool_use block (its arguments parsed into `input`).
nlohmann::ordered_json anthropic_tool_use(const chat::ToolCall& call);
// The whole answer as a message object.
nlohmann::ordered_json anthropic_message(const AnthropicEnvelope& e, const Answer& a);

// Streams blocks: a block opens when its kind of text first arrives and closes when another
// kind begins; each tool call is a block of its own.
class AnthropicCodec : public AnswerCodec {
  public:
    AnthropicCodec(AnthropicEnvelope envelope, int input_tokens)
        : env_(std::move(envelope)), input_tokens_(input_tokens) {}
    const char* stream_content_type() const override { return "text/event-stream"; }
    std::string delta(const chat::ParsedDelta& d, const Piece& piece) override;
    std::string end(const Answer& tail) override;
    std::string error(const std::string& message) override;
    std::string whole(const Answer& answer) override;

  private:
    enum class Block { None, Thinking, Text };
    std::string start_message();
    std::string open(Block kind);
    std::string close();
    std::string blocks_of(const chat::ParsedDelta& d);

    AnthropicEnvelope env_;
    int input_tokens_;
    bool started_ = false;
    Block open_ = Block::None;
    int index_ = -1;  // the current (or last) block's index
};

}  // namespace lokal::server
