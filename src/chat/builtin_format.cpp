#include "chat/builtin_format.h"

namespace lokal::chat {
namespace {

bool contains(const std::string& s, const char* needle) {
    return s.find(needle) != std::string::npos;
}

}  // namespace

ChatFamily detect_family(const gguf::File& f) {
    const std::string tmpl = f.get_string("tokenizer.chat_template").value_or("");
    if (!tmpl.empty()) {
        if (contains(tmpl, "<|start_header_id|>")) return ChatFamily::Llama3;
        if (contains(tmpl, "<|im_start|>")) return ChatFamily::ChatML;
        if (contains(tmpl, "<start_of_turn>")) return ChatFamily::Gemma;
        if (contains(tmpl, "<|assistant|>") && contains(tmpl, "<|end|>")) return ChatFamily::Phi3;
        if (contains(tmpl, "[INST]")) return ChatFamily::Llama2;
    }
    // A template we do not recognise: ChatML is the most common format. No template at all
    // means a base model (special tokens in its vocabulary notwithstanding): plain text.
    if (!tmpl.empty()) return ChatFamily::ChatML;
    return ChatFamily::None;
}

const char* family_name(ChatFamily f) {
    switch (f) {
        case ChatFamily::None:
            return "none";
        case ChatFamily::Llama3:
            return "llama3";
        case ChatFamily::ChatML:
            return "chatml";
        case ChatFamily::Gemma:
            return "gemma";
        case ChatFamily::Phi3:
            return "phi3";
        case ChatFamily::Llama2:
            return "llama2";
    }
    return "none";
}

std::string render(ChatFamily family, const std::vector<Message>& messages) {
    std::string out;
    switch (family) {
        case ChatFamily::None:
            for (const auto& m : messages) out += m.content + (m.role == "assistant" ? "\n" : "");
            return out;
        case ChatFamily::Llama3:
            for (const auto& m : messages) {
                out += "<|start_header_id|>" + m.role + "<|end_header_id|>\n\n" + m.content +
                       "<|eot_id|>";
            }
            return out + "<|start_header_id|>assistant<|end_header_id|>\n\n";
        case ChatFamily::ChatML:
            for (const auto& m : messages) {
                out += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
            }
            return out + "<|im_start|>assistant\n";
        case ChatFamily::Gemma: {
            std::string system;
            for (const auto& m : messages) {
                if (m.role == "system") {
                    system += m.content + "\n\n";
                    continue;
                }
                const std::string role = m.role == "assistant" ? "model" : "user";
                out += "<start_of_turn>" + role + "\n" + (role == "user" ? system : "") +
                       m.content + "<end_of_turn>\n";
                if (role == "user") system.clear();
            }
            return out + "<start_of_turn>model\n";
        }
        case ChatFamily::Phi3:
            for (const auto& m : messages) out += "<|" + m.role + "|>\n" + m.content + "<|end|>\n";
            return out + "<|assistant|>\n";
        case ChatFamily::Llama2: {
            std::string system;
            bool first = true;
            for (const auto& m : messages) {
                if (m.role == "system") {
                    system = "<<SYS>>\n" + m.content + "\n<</SYS>>\n\n";
                } else if (m.role == "user") {
                    if (!first) out += "<s>";
                    out += "[INST] " + system + m.content + " [/INST]";
                    system.clear();
                    first = false;
                } else {
                    out += " " + m.content + " </s>";
                }
            }
            return out;
        }
    }
    return out;
}

std::vector<std::string> stop_strings(ChatFamily family) {
    switch (family) {
        case ChatFamily::Llama3:
            return {"<|eot_id|>", "<|start_header_id|>"};
        case ChatFamily::ChatML:
            return {"<|im_end|>", "<|im_start|>"};
        case ChatFamily::Gemma:
            return {"<end_of_turn>", "<start_of_turn>"};
        case ChatFamily::Phi3:
            return {"<|end|>", "<|user|>"};
        case ChatFamily::Llama2:
            return {"[INST]"};
        case ChatFamily::None:
            return {};
    }
    return {};
}

}  // namespace lokal::chat
