// Random-weight llama-architecture decoders (64 wide, 2 layers) with a real vocabulary, written
// with our own GGUF writer, for tests that need a generating model with a given tokenizer (the
// fill-in-the-middle tests use Qwen2's and DeepSeek-Coder's; tests/tools/make_tiny_llama).
#pragma once

#include <string>

namespace lokal::model {

// Copies the tokenizer.* metadata of the GGUF at vocab_path.
void write_tiny_llama_gguf(const std::string& path, const std::string& vocab_path);

}  // namespace lokal::model
