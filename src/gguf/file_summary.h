// One-line facts about a model file for listings (lokal show, the server's /api/tags and
// /api/show): its quantization and parameter count.
#pragma once

#include <cstdint>
#include <string>

#include "gguf/gguf_file.h"

namespace lokal::gguf {

// general.file_type as llama.cpp's quantize tool names it (Q4_K_M, ...), else the dominant
// weight type by bytes.
std::string quantization_name(const File& f);
uint64_t parameter_count(const File& f);
// 268.10M, 1.24B, ...
std::string human_count(double n);

}  // namespace lokal::gguf
