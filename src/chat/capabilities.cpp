#include "chat/capabilities.h"

#include "chat/fill_in_middle.h"

namespace lokal::chat {
namespace {

bool is_embedding_arch(const std::string& arch) {
    return arch == "bert" || arch == "nomic-bert";
}

// A vision tower in the same file (Ollama's single-file gemma3 and llava style GGUFs): its
// clip/vision keys or "v." tensors.
bool has_vision_encoder(const gguf::File& file) {
    const std::string arch = file.get_string("general.architecture").value_or("");
    if (file.has(arch + ".vision.block_count") || file.has("clip.has_vision_encoder")) return true;
    for (const auto& t : file.tensors()) {
        if (t.name.starts_with("v.")) return true;
    }
    return false;
}

}  // namespace

std::vector<std::string> model_capabilities(const gguf::File& file) {
    std::vector<std::string> caps;
    const std::string arch = file.get_string("general.architecture").value_or("");
    if (is_embedding_arch(arch)) {
        caps.push_back("embedding");
    } else {
        caps.push_back("completion");
        const std::string tmpl = file.get_string("tokenizer.chat_template").value_or("");
        if (tmpl.find("tools") != std::string::npos) caps.push_back("tools");
        if (tmpl.find("<think>") != std::string::npos) caps.push_back("thinking");
    }
    if (gguf_can_fill_in_middle(file)) caps.push_back("insert");
    if (has_vision_encoder(file)) caps.push_back("vision");
    return caps;
}

}  // namespace lokal::chat
