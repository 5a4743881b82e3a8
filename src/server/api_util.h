// Helpers the API handlers share: JSON bodies, error answers, timestamps, streaming.
#pragma once

#include <httplib.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "server/completion.h"
#include "server/server.h"

namespace lokal::server {

// For every JSON text the server sends: a model can produce any bytes, and invalid UTF-8 must
// become U+FFFD rather than an exception.
inline constexpr auto kReplaceInvalidUtf8 = nlohmann::ordered_json::error_handler_t::replace;

// The request body as a JSON object; HttpError 400 when it is not one.
nlohmann::ordered_json parse_body(const httplib::Request& req);

// Wraps a handler: HttpError, ModelNotFound, lokal::Error and other exceptions become JSON error
// answers in the shape of the API that was called (Ollama's or OpenAI's).
httplib::Server::Handler guarded(ServerState& state,
                                 std::function<void(const httplib::Request&, httplib::Response&)>);
// Runs `fn`, answering what it throws as guarded() does.
void answer_errors(ServerState& state, const httplib::Request& req, httplib::Response& res,
                   const std::function<void()>& fn);
void send_error(const httplib::Request& req, httplib::Response& res, int status,
                const std::string& message, const std::string& param = {});

// A unique id for a response: prefix + 16 hex digits ("chatcmpl-", "msg_").
std::string random_id(const char* prefix);
// RFC 3339 with nanoseconds in UTC, as Ollama's created_at.
std::string rfc3339_now();
int64_t unix_now();
int64_t nanoseconds(double seconds);

// Streams a completion: `write` turns new pieces (and, once, the end with done = true) into
// response text. The client going away cancels the generation.
using StreamWriter = std::function<std::string(const std::vector<Piece>& pieces, bool done)>;
// The response counts in state.open_streams until it is written out or dropped, so a shutdown
// can let streams write their last line before the server stops.
void stream_response(ServerState& state, httplib::Response& res, const char* content_type,
                     std::shared_ptr<CompletionStream> stream, std::shared_ptr<void> keep,
                     StreamWriter write);

// Maps the engine's stop reason to Ollama/OpenAI's words: "stop" or "length".
const char* finish_reason(engine::StopReason r);

}  // namespace lokal::server
