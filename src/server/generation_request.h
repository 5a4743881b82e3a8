// A generation request read from either API: the prompt tokens, the parameters, structured-
// output hooks, and how the model's output is to be split into content, reasoning and tool calls.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "engine/batch_scheduler.h"
#include "server/model_manager.h"
#include "server/request_options.h"

namespace lokal::server {

struct ToolCallOut {
    std::string id;
    std::string name;
    std::string arguments;  // JSON object text
};

// A piece of the answer as clients see it.
struct ParsedDelta {
    std::string content;
    std::string reasoning;
    std::vector<ToolCallOut> tool_calls;
    void append(const ParsedDelta& d);
    bool empty() const { return content.empty() && reasoning.empty() && tool_calls.empty(); }
};

// Splits generated text as it streams in.
class OutputState {
  public:
    OutputState() = default;
    ParsedDelta feed(std::string_view text);
    ParsedDelta finish();  // whatever was held back
    bool has_tool_calls() const { return tool_calls_ > 0; }

  private:
    int tool_calls_ = 0;
};

struct GenerationRequest {
    std::vector<int32_t> prompt;
    GenerationParams params;
    // Hooks for the scheduler (structured output); the rest of the request is filled later.
    engine::SequenceRequest hooks() const;
    OutputState make_output() const { return OutputState(); }
};

GenerationRequest ollama_generate_request(const LoadedModel& m, const nlohmann::json& body);
GenerationRequest ollama_chat_request(const LoadedModel& m, const nlohmann::json& body);

// Ollama's message object for a (partial or whole) answer.
nlohmann::json message_json(const ParsedDelta& d, bool final);

}  // namespace lokal::server
