// Turning a conversation (OpenAI/Ollama-style messages) into the prompt text and tokens a model
// was trained on: its chat template (Jinja from the GGUF, or a Go TEMPLATE from the store), or the
// built-in format of its family; the model's default system prompt; BOS handling; turn-marker
// stops; dropping the oldest turns when a conversation outgrows the context. The server's routes
// and `lokal run` both render through here.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "chat/builtin_format.h"
#include "chat/go_template.h"
#include "jinja/template.h"

namespace lokal::tokenizer {
class Tokenizer;
}

namespace lokal::chat {

// A malformed conversation: a user error naming the request field at fault ("messages[2].role").
struct PromptError : Error {
    PromptError(const std::string& message, std::string field_name)
        : Error(message, ErrorKind::InvalidInput), field(std::move(field_name)) {}
    std::string field;
};

// A chat template in either language: Jinja (GGUF tokenizer.chat_template) or Go text/template
// (Ollama Modelfile TEMPLATE).
struct PromptTemplate {
    std::optional<jinja::Template> jinja;
    std::optional<GoTemplate> go;
};
// Parses either kind (looks_like_go_template decides); throws lokal::Error.
PromptTemplate parse_prompt_template(std::string_view text);

// Ollama's Modelfile TEMPLATEs are Go text/template ("{{ .Prompt }}", "{{ range .Messages }}");
// Hugging Face's are Jinja ("{% for message in messages %}").
bool looks_like_go_template(std::string_view text);

// How one model writes conversations.
struct PromptFormat {
    PromptTemplate tmpl;  // empty: the built-in format of `family`
    std::string text;     // tmpl's source (Jinja or Go): tool-call and reasoning syntax detection
    ChatFamily family = ChatFamily::None;
    std::optional<std::string> system;  // used when the messages have no system message
};

struct ChatPrompt {
    std::string text;
    std::vector<std::string> stop;  // end-of-turn strings of the format, as a safety net
};

// Messages (role, content as a string or a list of text parts, tool_calls, tool results) rendered
// with the assistant's turn opened. `tools` may be null. `extra` holds additional template
// variables (e.g. enable_thinking); may be null. `override_template` (a request's own) replaces
// the model's. Throws PromptError for malformed messages or a template that refuses them.
ChatPrompt chat_prompt(const PromptFormat& format, const tokenizer::Tokenizer& tok,
                       const nlohmann::ordered_json& messages, const nlohmann::ordered_json* tools,
                       const nlohmann::ordered_json* extra = nullptr,
                       const PromptTemplate* override_template = nullptr);

// The tokens of text, with BOS added as the vocabulary asks unless the text already starts with
// it; special-token text is parsed as special tokens.
std::vector<int32_t> tokenize_prompt(const tokenizer::Tokenizer& tok, const std::string& text);

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
FittedChat fit_chat_prompt(const PromptFormat& format, const tokenizer::Tokenizer& tok,
                           const nlohmann::ordered_json& messages,
                           const nlohmann::ordered_json* tools, int n_ctx, bool truncate,
                           const nlohmann::ordered_json* extra = nullptr,
                           const PromptTemplate* override_template = nullptr);

// The text of a message's content: a string, or the "text" parts of a list.
std::string content_text(const nlohmann::ordered_json& content, const std::string& field_name);

}  // namespace lokal::chat
