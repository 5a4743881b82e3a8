// OpenAI's Responses API request (POST /v1/responses) read into lokal's generation request:
// input as a string or items (messages, function calls and their outputs), instructions,
// function tools, text.format, reasoning, and the stored conversation of previous_response_id.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "server/generation_request.h"
#include "server/model_manager.h"
#include "server/response_store.h"

namespace lokal::server {

struct ResponsesRequest {  // NOLINT(bugprone-exception-escape): ordered_json's moves assert
    GenerationRequest g;
    // The conversation so far in chat-message shape (previous turns, then this input), without
    // the instructions: what a stored response keeps for the next turn.
    nlohmann::ordered_json conversation;
    nlohmann::ordered_json input_items;  // this request's input as Responses items, with ids
    nlohmann::ordered_json echo;         // request fields the response object repeats
    bool store = true;
};

// HttpError 400 for malformed input, 404 for an unknown previous_response_id. A non-empty
// `grounded_question` (the file_search tool's prompt with the retrieved chunks) is what the model
// reads in place of the last user message; the stored conversation keeps the message as given.
ResponsesRequest responses_request(const LoadedModel& m, const nlohmann::ordered_json& body,
                                   const ResponseStore& stored,
                                   const std::string& grounded_question = {});

}  // namespace lokal::server
