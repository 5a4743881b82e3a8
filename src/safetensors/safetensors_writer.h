// Writes safetensors files (tests and tools make small Hugging Face model folders with it).
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "safetensors/safetensors_file.h"

namespace lokal::safetensors {

struct TensorData {
    std::string name;
    SafeDType type = SafeDType::F32;
    std::vector<uint64_t> shape;  // outermost first
    std::vector<uint8_t> bytes;   // exactly product(shape) * element size
};

// A float tensor stored as F32, F16 or BF16 (round to nearest even).
TensorData float_tensor(std::string name, std::vector<uint64_t> shape, std::span<const float> v,
                        SafeDType type = SafeDType::F32);

// The file's bytes: header (names in order, data back to back in that order), then the data.
std::vector<uint8_t> safetensors_bytes(const std::vector<TensorData>& tensors,
                                       const std::map<std::string, std::string>& metadata = {});
void write_safetensors(const std::string& path, const std::vector<TensorData>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace lokal::safetensors
