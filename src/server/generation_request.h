// A generation request read from either API: the prompt tokens, the parameters, structured-
// output hooks, and how the model's output is to be split into content, reasoning and tool calls.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "chat/tool_call_parser.h"
#include "engine/batch_scheduler.h"
#include "grammar/grammar.h"
#include "server/model_manager.h"
#include "server/request_options.h"

namespace lokal::server {

// Splits generated text as it streams in: tool calls (when the request offered tools) and
// reasoning are taken out of the content in the model's own format.
class OutputState {
  public:
    OutputState() = default;  // everything is content
    OutputState(std::string_view chat_template, bool has_tools, chat::ReasoningMode reasoning,
                std::string_view rendered_prompt);
    chat::ParsedDelta feed(std::string_view text);
    chat::ParsedDelta finish();  // whatever was held back
    bool has_tool_calls() const { return tool_calls_ > 0; }

  private:
    chat::ParsedDelta counted(chat::ParsedDelta&& d);
    std::unique_ptr<chat::OutputParser> parser_;
    int tool_calls_ = 0;
};

struct GenerationRequest {
    std::vector<int32_t> prompt;
    std::string prompt_text;  // as rendered (empty for token prompts)
    GenerationParams params;
    bool has_tools = false;
    bool parse_output = false;  // a chat answer: look for tool calls and reasoning
    chat::ReasoningMode reasoning = chat::ReasoningMode::Inline;
    std::string chat_template;
    std::shared_ptr<const grammar::Grammar> format;  // structured output; null: free text
    // Hooks for the scheduler (structured output); the rest of the request is filled later.
    engine::SequenceRequest hooks(LoadedModel& model) const;
    OutputState make_output() const;
};

GenerationRequest ollama_generate_request(const LoadedModel& m, const nlohmann::ordered_json& body);
GenerationRequest ollama_chat_request(const LoadedModel& m, const nlohmann::ordered_json& body);

// Ollama's `think` (true/false or an effort level) as a reasoning mode; fallback when absent.
chat::ReasoningMode think_mode(const nlohmann::ordered_json& body, chat::ReasoningMode fallback);
// The template variables `think` sets: {"enable_thinking": bool} when given, else {}.
nlohmann::ordered_json think_template_vars(const nlohmann::ordered_json& body);
// A template that can open a reasoning block (Qwen3, DeepSeek-R1, ...): what /api/show lists as
// the "thinking" capability.
bool can_think(const LoadedModel& m);
// A request's `suffix` ("" when absent); 400 when not a string.
std::string suffix_field(const nlohmann::ordered_json& body);
// The fill-in-the-middle prompt for code between prefix and suffix; 400 naming 'suffix' when the
// model has no FIM tokens.
std::vector<int32_t> fill_in_middle_prompt(const LoadedModel& m, const std::string& prefix,
                                           const std::string& suffix);
// Whether `tools` (may be null) offers any tool; 400 when it is not a list.
bool tools_given(const nlohmann::ordered_json* tools);

}  // namespace lokal::server
