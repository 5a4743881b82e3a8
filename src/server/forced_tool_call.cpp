#include "server/forced_tool_call.h"

#include "base/error.h"
#include "grammar/json_schema.h"
#include "server/http_error.h"

namespace lokal::server {

using json = nlohmann::ordered_json;

namespace {

struct CallSyntax {
    const char* prefix;
    const char* suffix;
    const char* arguments_key;
};

std::optional<CallSyntax> syntax_of(chat::ToolFormat f) {
    switch (f) {
        case chat::ToolFormat::Hermes:
            return CallSyntax{"<tool_call>\n", "\n</tool_call>", "arguments"};
        case chat::ToolFormat::Mistral:
            return CallSyntax{"[TOOL_CALLS][", "]", "arguments"};
        case chat::ToolFormat::Llama3:
            return CallSyntax{"", "", "parameters"};
        case chat::ToolFormat::Generic:
        case chat::ToolFormat::Gemma:
            return CallSyntax{"", "", "arguments"};
        case chat::ToolFormat::FunctionaryV32:
        case chat::ToolFormat::FunctionaryV31:
        case chat::ToolFormat::DeepSeek:
            break;
    }
    return std::nullopt;
}

// {"name": <that name>, "<arguments_key>": <its parameters>} for one tool.
json call_schema(const json& function, const char* arguments_key) {
    json params = function.contains("parameters") && function["parameters"].is_object()
                      ? function["parameters"]
                      : json{{"type", "object"}};
    return {{"type", "object"},
            {"properties", {{"name", {{"const", function["name"]}}}, {arguments_key, params}}},
            {"required", {"name", arguments_key}}};
}

}  // namespace

std::shared_ptr<const grammar::Grammar> forced_tool_call_grammar(chat::ToolFormat format,
                                                                 const json& tools,
                                                                 const ForcedToolCall& forced,
                                                                 const char* field) {
    if (!forced.required) return nullptr;
    const auto syntax = syntax_of(format);
    if (!syntax) {
        throw HttpError(400,
                        std::string("this model writes tool calls as ") +
                            chat::tool_format_name(format) +
                            ", which lokal cannot force yet; use tool_choice auto",
                        field);
    }
    json options = json::array();
    for (const json& t : tools) {
        const json& fn = t["function"];
        if (forced.name && fn.value("name", "") != *forced.name) continue;
        options.push_back(call_schema(fn, syntax->arguments_key));
    }
    if (options.empty()) {
        throw HttpError(400,
                        forced.name ? "'" + *forced.name + "' is not one of the tools given"
                                    : std::string("tool_choice requires a tool, and none is given"),
                        field);
    }
    const json schema = options.size() == 1 ? options[0] : json{{"anyOf", options}};
    try {
        return grammar::grammar_from_json_schema(schema, syntax->prefix, syntax->suffix);
    } catch (const Error& e) {
        throw HttpError(400, std::string("a tool's parameters cannot be forced: ") + e.what(),
                        "tools");
    }
}

}  // namespace lokal::server
