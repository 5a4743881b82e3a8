// Minimal built-in chat formats, chosen from the model's chat template or vocabulary. The full
// Jinja template engine replaces these for models that carry a template; these remain the
// fallback for models without one.
#pragma once

#include <string>
#include <vector>

#include "gguf/gguf_file.h"

namespace lokal::chat {

struct Message {
    std::string role;  // "system", "user", "assistant"
    std::string content;
};

enum class ChatFamily { None, Llama3, ChatML, Gemma, Phi3, Llama2 };

// Picks the family from tokenizer.chat_template (or the vocabulary's special tokens).
ChatFamily detect_family(const gguf::File& f);
const char* family_name(ChatFamily f);

// Renders the conversation, ending with the assistant's turn opened (add_generation_prompt).
// The result is meant to be tokenized with special tokens parsed; BOS is left to the tokenizer.
std::string render(ChatFamily family, const std::vector<Message>& messages);

// Strings that end an assistant turn in this family when the model prints them as text.
std::vector<std::string> stop_strings(ChatFamily family);

}  // namespace lokal::chat
