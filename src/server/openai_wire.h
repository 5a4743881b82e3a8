// OpenAI's wire format for /v1/chat/completions and /v1/completions answers: the completion
// object, server-sent-event chunks ending with `data: [DONE]`, usage and logprobs.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <string>

#include "chat/tool_call_parser.h"
#include "server/answer_driver.h"

namespace lokal::tokenizer {
class Tokenizer;
}

namespace lokal::server {

// What every object of one answer repeats.
struct OpenAIEnvelope {
    std::string id;  // chatcmpl-..., cmpl-...
    int64_t created = 0;
    std::string model;
    bool chat = true;
};

nlohmann::ordered_json openai_usage(int prompt_tokens, int completion_tokens, int cached_tokens);
nlohmann::ordered_json openai_usage(const CompletionStream& s);
// One token's logprob entry (with its top alternatives).
nlohmann::ordered_json openai_token_logprob(const tokenizer::Tokenizer& tok, const Piece& p);
// /v1/completions' legacy shape: parallel lists tokens, token_logprobs, top_logprobs (token ->
// logprob objects) and text_offset (counted from `text_offset`, which is advanced).
nlohmann::ordered_json openai_legacy_logprobs(const tokenizer::Tokenizer& tok,
                                              std::span<const Piece> pieces, size_t& text_offset);
// "tool_calls" when the answer called a tool, else the stop reason.
std::string openai_finish_reason(const Answer& a);

// One choice of a whole answer (message or text, finish_reason, logprobs). `n_probs` < 0: no
// logprobs.
nlohmann::ordered_json openai_choice(const OpenAIEnvelope& e, const Answer& a, int n_probs,
                                     const tokenizer::Tokenizer& tok, int index);
// The whole answer around its choices: chat.completion or text_completion.
nlohmann::ordered_json openai_completion(const OpenAIEnvelope& e, nlohmann::ordered_json choices,
                                         nlohmann::ordered_json usage);
// The whole answer of one choice.
nlohmann::ordered_json openai_completion(const OpenAIEnvelope& e, const Answer& a, int n_probs,
                                         const tokenizer::Tokenizer& tok);
// A chunk object around `choices` (chat.completion.chunk or text_completion).
nlohmann::ordered_json openai_chunk(const OpenAIEnvelope& e, nlohmann::ordered_json choices);
// The choice of a streamed delta. `first`: the first chunk, which carries the role.
// `next_tool_index` numbers the tool calls across chunks; `index` is the choice's (n > 1).
nlohmann::ordered_json openai_delta_choice(const OpenAIEnvelope& e, const chat::ParsedDelta& d,
                                           const nlohmann::ordered_json& logprobs, bool first,
                                           int& next_tool_index, int index = 0);

// One choice's stream (and whole answer). With n > 1 each choice has its own codec (`index`),
// whose end() leaves the usage and `data: [DONE]` to trailer(), sent once after every choice.
class OpenAICodec : public AnswerCodec {
  public:
    OpenAICodec(OpenAIEnvelope envelope, int n_probs, bool include_usage,
                const tokenizer::Tokenizer& tok, int index = 0, bool ends_response = true)
        : env_(std::move(envelope)),
          n_probs_(n_probs),
          include_usage_(include_usage),
          tok_(tok),
          index_(index),
          ends_response_(ends_response) {}
    const char* stream_content_type() const override { return "text/event-stream"; }
    std::string delta(const chat::ParsedDelta& d, const Piece& piece) override;
    std::string end(const Answer& tail) override;
    std::string error(const std::string& message) override;
    std::string whole(const Answer& answer) override;
    // The end of the response: the usage chunk (when asked for) and `data: [DONE]`.
    std::string trailer(const nlohmann::ordered_json& usage) const;

  private:
    std::string event(nlohmann::ordered_json choices) const;
    OpenAIEnvelope env_;
    int n_probs_;
    bool include_usage_;
    const tokenizer::Tokenizer& tok_;
    int index_;
    bool ends_response_;
    bool first_ = true;
    int next_tool_index_ = 0;
    size_t text_offset_ = 0;  // legacy logprobs: bytes of the answer so far
};

}  // namespace lokal::server
