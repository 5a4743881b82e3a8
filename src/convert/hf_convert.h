// A Hugging Face model folder (config.json, safetensors weights, tokenizer files) -> one GGUF
// file: metadata, vocabulary and every tensor renamed and converted to the output type.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "gguf/gguf_writer.h"
#include "tensor/dtype.h"

namespace lokal::convert {

struct ConvertOptions {
    // F32, F16, BF16 or Q8_0. Vectors (norms, biases), position and token-type embeddings stay
    // F32; a Q8_0 matrix whose rows are not a multiple of 32 becomes F16.
    DType outtype = DType::F16;
    std::string name;  // general.name; the folder's name when empty
};

// "f32", "f16", "bf16", "q8_0" (any case); throws lokal::Error for anything else.
DType parse_outtype(std::string_view s);

// True when `dir` looks like a Hugging Face model folder (it has a config.json).
bool is_hf_model_dir(const std::filesystem::path& dir);

// Builds the GGUF in memory (tensor data owned by the writer). Throws lokal::Error: NotFound for a
// missing folder or file, Unsupported for an architecture or tokenizer we do not convert,
// InvalidInput for malformed files and shapes that disagree with config.json.
gguf::Writer build_gguf(const std::filesystem::path& dir, const ConvertOptions& o,
                        const std::function<void(const std::string&)>& status = {});

// build_gguf, then written atomically to out_path (nothing is left there on error).
void convert_hf_dir(const std::filesystem::path& dir, const std::string& out_path,
                    const ConvertOptions& o,
                    const std::function<void(const std::string&)>& status = {});

}  // namespace lokal::convert
