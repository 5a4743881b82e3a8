// What a model can do, read from its GGUF header alone: /api/show's "capabilities" and the
// model card of `lokal show`.
#pragma once

#include <string>
#include <vector>

#include "gguf/gguf_file.h"

namespace lokal::chat {

// In Ollama's order and names: "completion" or "embedding", then "tools", "thinking" (from the
// chat template), "insert" (fill-in-the-middle tokens), "vision" (a vision encoder in the file).
std::vector<std::string> model_capabilities(const gguf::File& file);

}  // namespace lokal::chat
