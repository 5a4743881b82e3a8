// One driver for every route that generates: it runs a started completion into the response,
// splitting the model's text with the request's OutputState, and leaves the wire format to the
// API's codec (ollama_wire.h, openai_wire.h): streamed piece by piece, or collected and answered
// once. Tokens are counted in the metrics and the request log here, for every API alike.
#pragma once

#include <httplib.h>

#include <memory>
#include <string>
#include <vector>

#include "chat/tool_call_parser.h"
#include "server/completion.h"
#include "server/generation_request.h"
#include "server/server.h"

namespace lokal::server {

// A finished answer as the codecs see it.
struct Answer {
    const chat::ParsedDelta& parsed;   // the whole answer, or (streaming) what was held back
    const std::vector<Piece>& pieces;  // every token with its logprobs (not streaming)
    const CompletionStream& stream;    // counts, timings, stop reason, context
    bool has_tool_calls = false;
};

// What a client sees of a delta: content, reasoning or tool calls (parse errors stay internal).
inline bool visible(const chat::ParsedDelta& d) {
    return !d.content.empty() || !d.reasoning.empty() || !d.tool_calls.empty();
}

// An API's wire format for one answer. The methods build text from what they are given; a codec
// keeps only what its stream needs between chunks (OpenAI's first chunk carries the role).
class AnswerCodec {
  public:
    virtual ~AnswerCodec() = default;
    virtual const char* stream_content_type() const = 0;
    // Streaming: the text sent for one piece ("" sends nothing).
    virtual std::string delta(const chat::ParsedDelta& d, const Piece& piece) = 0;
    // Streaming: the last text, after the sequence ended.
    virtual std::string end(const Answer& tail) = 0;
    // Streaming: the sequence failed after the response began.
    virtual std::string error(const std::string& message) = 0;
    // Not streaming: the whole response body (application/json).
    virtual std::string whole(const Answer& answer) = 0;
};

// A whole (not streamed) answer read to its end: the parsed text and every token.
struct CollectedAnswer {
    chat::ParsedDelta parsed;
    std::vector<Piece> pieces;
};
// Reads the stream to its end through `output`; HttpError 500 when the sequence failed.
CollectedAnswer collect_answer(CompletionStream& stream, OutputState& output);
// Counts a finished sequence's tokens in the metrics and the request log.
void account_answer(ServerState& state, const httplib::Request& req, const std::string& model,
                    const CompletionStream& s);

void drive_answer(ServerState& state, const httplib::Request& req, httplib::Response& res,
                  const std::string& model, const std::shared_ptr<CompletionStream>& stream,
                  std::shared_ptr<void> keep, OutputState output,
                  const std::shared_ptr<AnswerCodec>& codec, bool streaming);

}  // namespace lokal::server
