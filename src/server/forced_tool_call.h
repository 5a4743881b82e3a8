// tool_choice "required" (or a named function): the answer must be a call, so it is constrained
// by a grammar that writes exactly one call in the model's own tool-call syntax, with the
// function's parameters as a JSON schema. The output parser then reads it as any other call.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "chat/tool_call_parser.h"
#include "grammar/grammar.h"

namespace lokal::server {

// What the client asked for: nothing forced, any of the tools, or one by name.
struct ForcedToolCall {
    bool required = false;
    std::optional<std::string> name;
};

// `tools` in OpenAI's chat shape ([{type: function, function: {name, parameters}}]). HttpError
// 400 naming `field` for an unknown function name or a model whose syntax cannot be forced.
std::shared_ptr<const grammar::Grammar> forced_tool_call_grammar(
    chat::ToolFormat format, const nlohmann::ordered_json& tools, const ForcedToolCall& forced,
    const char* field);

}  // namespace lokal::server
