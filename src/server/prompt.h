// The server's side of prompt rendering (chat/prompt.h does the rendering): a loaded model's
// format and tokenizer, and a request's own `template`.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "chat/prompt.h"
#include "server/model_manager.h"

namespace lokal::server {

using chat::ChatPrompt;
using chat::FittedChat;
using chat::PromptTemplate;

inline ChatPrompt chat_prompt(const LoadedModel& m, const nlohmann::ordered_json& messages,
                              const nlohmann::ordered_json* tools,
                              const nlohmann::ordered_json* extra = nullptr,
                              const PromptTemplate* override_template = nullptr) {
    return chat::chat_prompt(m.prompt_format, m.model->tokenizer(), messages, tools, extra,
                             override_template);
}

inline std::vector<int32_t> tokenize_prompt(const LoadedModel& m, const std::string& text) {
    return chat::tokenize_prompt(m.model->tokenizer(), text);
}

inline FittedChat fit_chat_prompt(const LoadedModel& m, const nlohmann::ordered_json& messages,
                                  const nlohmann::ordered_json* tools, int n_ctx, bool truncate,
                                  const nlohmann::ordered_json* extra = nullptr,
                                  const PromptTemplate* override_template = nullptr) {
    return chat::fit_chat_prompt(m.prompt_format, m.model->tokenizer(), messages, tools, n_ctx,
                                 truncate, extra, override_template);
}

// A stored model's MESSAGE lines ([{"role", "content"}, ...]) put before a chat request's own
// messages, on every chat request, as Ollama does. A system message the request starts with stays
// first, ahead of them, since templates expect the system prompt at the top.
nlohmann::ordered_json with_stored_messages(const nlohmann::json& stored,
                                            const nlohmann::ordered_json& messages);

// The request's `template` field parsed; nullopt when absent or empty. HttpError 400 naming
// 'template' when it does not parse.
std::optional<PromptTemplate> request_template(const nlohmann::ordered_json& body);

}  // namespace lokal::server
