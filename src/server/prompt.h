// Turning API messages into the token sequence a model was trained on.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chat/go_template.h"
#include "server/model_manager.h"

namespace lokal::server {

struct ChatPrompt {
    std::string text;
    std::vector<std::string> stop;  // end-of-turn strings of the format, as a safety net
};

// OpenAI/Ollama-style messages (role, content as a string or a list of text parts, tool_calls,
// tool results) rendered in the model's chat format with the assistant's turn opened. `tools` may
// be null. Throws HttpError 400 for malformed messages.
// `extra` holds additional template variables (e.g. enable_thinking); may be null.
// A chat template in either language: Jinja (GGUF tokenizer.chat_template) or Go text/template
// (Ollama Modelfile TEMPLATE).
struct PromptTemplate {
    std::optional<jinja::Template> jinja;
    std::optional<chat::GoTemplate> go;
};
// Parses either kind (looks_like_go_template decides); throws lokal::Error.
PromptTemplate parse_prompt_template(std::string_view text);

// `override_template` (the request's own `template`, parsed) replaces the model's if not null.
ChatPrompt chat_prompt(const LoadedModel& model, const nlohmann::ordered_json& messages,
                       const nlohmann::ordered_json* tools,
                       const nlohmann::ordered_json* extra = nullptr,
                       const PromptTemplate* override_template = nullptr);

// A conversation that fits a context: the rendered prompt, its tokens, and the messages kept.
struct FittedChat {  // NOLINT(bugprone-exception-escape): ordered_json's moves assert
    ChatPrompt prompt;
    std::vector<int32_t> tokens;
    nlohmann::ordered_json messages;  // the input without the turns that were dropped
    int dropped = 0;
};

// chat_prompt and tokenize_prompt, dropping the oldest messages (never a system message, never
// the last one) until the prompt is shorter than n_ctx tokens, as Ollama does for a chat that
// outgrew its context. With truncate false, or when even the system messages and the last one
// do not fit, the prompt is returned as it is (the scheduler then refuses it, naming the sizes).
FittedChat fit_chat_prompt(const LoadedModel& model, const nlohmann::ordered_json& messages,
                           const nlohmann::ordered_json* tools, int n_ctx, bool truncate,
                           const PromptTemplate* override_template = nullptr);

// The request's `template` field parsed; nullopt when absent or empty. HttpError 400 naming
// 'template' when it does not parse.
std::optional<PromptTemplate> request_template(const nlohmann::ordered_json& body);

// Ollama's Modelfile TEMPLATEs are Go text/template ("{{ .Prompt }}", "{{ range .Messages }}");
// Hugging Face's are Jinja ("{% for message in messages %}").
bool looks_like_go_template(std::string_view text);

// The tokens of text, with BOS added as the vocabulary asks unless the text already starts with
// it; special-token text is parsed as special tokens.
std::vector<int32_t> tokenize_prompt(const LoadedModel& model, const std::string& text);

// The text of a message's content: a string, or the "text" parts of a list.
std::string content_text(const nlohmann::ordered_json& content, const std::string& field_name);

}  // namespace lokal::server
