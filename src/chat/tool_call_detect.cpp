// Choosing the tool-call format and parser options for a request.
#include "chat/tool_call_parser.h"

namespace lokal::chat {

const char* tool_format_name(ToolFormat f) {
    switch (f) {
        case ToolFormat::Generic:
            return "generic";
        case ToolFormat::Llama3:
            return "llama3";
        case ToolFormat::Hermes:
            return "hermes";
        case ToolFormat::Mistral:
            return "mistral";
        case ToolFormat::FunctionaryV32:
            return "functionary-v3.2";
        case ToolFormat::FunctionaryV31:
            return "functionary-v3.1";
        case ToolFormat::DeepSeek:
            return "deepseek";
        case ToolFormat::Gemma:
            return "gemma";
    }
    return "generic";
}

ToolFormat detect_tool_format(std::string_view t) {
    auto has = [&](std::string_view s) { return t.find(s) != std::string_view::npos; };
    // Order matters: Qwen3-Coder's template has both <tool_call> and <function=; functionary
    // v3.1's has <function= and ipython.
    if (has("tool▁calls▁begin") || has("tool▁call▁begin")) return ToolFormat::DeepSeek;
    if (has("[TOOL_CALLS]")) return ToolFormat::Mistral;
    if (has("<tool_call>")) return ToolFormat::Hermes;
    if (has(">>>")) return ToolFormat::FunctionaryV32;
    if (has("<function=")) return ToolFormat::FunctionaryV31;
    if (has("<|python_tag|>") || has("ipython")) return ToolFormat::Llama3;
    if (has("<start_of_turn>")) return ToolFormat::Gemma;
    return ToolFormat::Generic;
}

bool prompt_opens_reasoning(std::string_view prompt) {
    while (!prompt.empty() && (prompt.back() == '\n' || prompt.back() == ' ' ||
                               prompt.back() == '\r' || prompt.back() == '\t')) {
        prompt.remove_suffix(1);
    }
    return prompt.ends_with("<think>") || prompt.ends_with("[THINK]");
}

ParserSetup choose_parser(std::string_view chat_template, bool has_tools, ReasoningMode reasoning,
                          std::string_view rendered_prompt) {
    ParserSetup setup;
    setup.format = detect_tool_format(chat_template);
    setup.options.tools = has_tools;
    setup.options.reasoning = reasoning;
    setup.options.starts_in_reasoning = prompt_opens_reasoning(rendered_prompt);
    return setup;
}

}  // namespace lokal::chat
