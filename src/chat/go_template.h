// Ollama's chat templates: Go text/template, the language of Modelfile TEMPLATE blocks
// ("{{ if .System }}...{{ end }}{{ range .Messages }}..."). Our own renderer of the subset chat
// templates use: text and actions with {{- -}} trimming and comments; if / else if / else,
// range (with $i, $v := and else), with, break, continue; pipelines with |, parentheses,
// variables ($x := / $x =, $, $.Field), field chains; string, raw string, number, bool and nil
// literals; functions and or not eq ne lt le gt ge len index slice print printf println json.
// define/template/block are not supported (a clear error). Values are JSON: field lookup is by
// key, truthiness is Go's (false, 0, "", nil and empty lists/maps are false), and a missing
// field prints as nothing.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace lokal::chat {

class GoTemplate {
  public:
    // Throws lokal::Error naming the line of a syntax error.
    static GoTemplate parse(std::string_view source);
    // Throws lokal::Error on a runtime error or when a render limit (output size, loop
    // iterations, nesting) is exceeded.
    std::string render(const nlohmann::json& data) const;

    struct Node;

  private:
    std::shared_ptr<const Node> root_;
};

// The data Ollama gives a chat template, from OpenAI/Ollama-style messages ({role, content,
// thinking, tool_calls: [{function: {name, arguments}}]}) and tools: .Messages (Role, Content,
// Thinking, ToolCalls[].Function.{Name,Arguments}), .Tools (Type, Function.{Name, Description,
// Parameters}), .System (the system messages), .Prompt (the last user message, for templates
// written for a single turn), .Response (""), .Think and .IsThinkSet.
nlohmann::json go_template_data(const nlohmann::json& messages, const nlohmann::json& tools,
                                bool think_set, bool think);

}  // namespace lokal::chat
