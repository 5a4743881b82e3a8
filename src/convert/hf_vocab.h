// tokenizer.json / tokenizer.model -> the GGUF vocabulary (tokenizer.ggml.*): WordPiece (BERT,
// written in llama.cpp's phantom-space spelling), byte-level BPE (merges, with the pre-tokenizer
// named from its split regex), SentencePiece (tokenizer.model's pieces, scores and types),
// added/special tokens with their types, the special token ids and the chat template.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "gguf/gguf_writer.h"

namespace lokal::convert {

// The JSON files of a Hugging Face model folder (absent ones are null).
// NOLINTNEXTLINE(bugprone-exception-escape): copying JSON may throw bad_alloc, as any copy does
struct HfFiles {
    std::filesystem::path dir;
    nlohmann::json config;             // config.json (required)
    nlohmann::json tokenizer;          // tokenizer.json
    nlohmann::json tokenizer_config;   // tokenizer_config.json
    nlohmann::json generation_config;  // generation_config.json
    static HfFiles read(const std::filesystem::path& dir);
};

// The pre-tokenizer name (tokenizer.ggml.pre) for a byte-level BPE tokenizer.json, from its split
// regex; throws lokal::Error (Unsupported) for one we do not know.
std::string detect_bpe_pre(const nlohmann::json& tokenizer);

// Writes every tokenizer.* key. n_vocab: the model's vocabulary size (its embedding rows); ids
// the tokenizer does not fill are padded as unused tokens. Throws lokal::Error when the folder has
// no tokenizer we can read.
void write_vocab(const HfFiles& hf, int64_t n_vocab, gguf::Writer& w);

}  // namespace lokal::convert
