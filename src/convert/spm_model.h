// SentencePiece's tokenizer.model (a ModelProto protobuf): the pieces with their scores and types
// and the normalizer's add_dummy_prefix flag. Only the fields a GGUF vocabulary needs are read;
// every length is checked against the buffer.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace lokal::convert {

struct SpmPiece {
    std::string text;
    float score = 0.0f;
    int32_t type = 1;  // SentencePiece's numbering equals GGUF's: 1 normal ... 6 byte
};

struct SpmModel {
    std::vector<SpmPiece> pieces;
    bool add_dummy_prefix = true;
};

SpmModel parse_spm_model(const uint8_t* data, size_t size);
SpmModel read_spm_model(const std::filesystem::path& path);

}  // namespace lokal::convert
