// Anthropic's Messages API request (POST /v1/messages) read into lokal's generation request: the
// system prompt, messages with text, tool_use and tool_result blocks, tools, tool_choice,
// thinking, and the sampling fields.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "server/generation_request.h"
#include "server/model_manager.h"

namespace lokal::server {

struct AnthropicRequest {
    GenerationRequest g;
    std::vector<std::string> stop_sequences;  // the client's own, reported when one ends the turn
    bool thinking = false;                    // thinking: {type: enabled}
};

AnthropicRequest anthropic_request(const LoadedModel& m, const nlohmann::ordered_json& body);

// The conversation in the message shape chat_prompt reads (a system message first when given),
// and the tools in OpenAI's shape (null when none), for rendering and for count_tokens.
nlohmann::ordered_json anthropic_messages(const nlohmann::ordered_json& body);
nlohmann::ordered_json anthropic_tools(const nlohmann::ordered_json& body);

}  // namespace lokal::server
