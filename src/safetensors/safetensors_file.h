// Safetensors reader: memory-maps a .safetensors file (an 8-byte little-endian header length, a
// JSON header, then the raw tensor bytes) and validates the header before anything is used:
// header length within the file and below a sane bound, known dtype names, shapes whose byte size
// equals their data range, ranges inside the data section and not overlapping. A malformed file
// is a lokal::Error naming the file and the problem.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/mapped_file.h"

namespace lokal::safetensors {

// The element types a safetensors header may name.
enum class SafeDType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL, F8_E4M3, F8_E5M2 };

std::string_view safe_dtype_name(SafeDType t);
uint32_t safe_dtype_size(SafeDType t);  // bytes per element

constexpr uint64_t kMaxHeaderBytes = 100ull << 20;  // the format's own limit (100 MB)

struct Tensor {
    std::string name;
    SafeDType type = SafeDType::F32;
    std::vector<uint64_t> shape;  // outermost first, as PyTorch states it; empty for a scalar
    uint64_t n_elements = 1;
    uint64_t offset = 0;            // from the start of the data section
    const uint8_t* data = nullptr;  // into the mapped file
    uint64_t n_bytes = 0;
};

class File {
  public:
    static std::unique_ptr<File> open(const std::string& path);
    // Parses a buffer the caller keeps alive; `label` names it in errors.
    static std::unique_ptr<File> parse(const uint8_t* data, size_t size,
                                       const std::string& label = "buffer");

    const std::vector<Tensor>& tensors() const { return tensors_; }
    const Tensor* find(std::string_view name) const;
    const std::map<std::string, std::string>& metadata() const { return metadata_; }

  private:
    std::unique_ptr<MappedFile> map_;
    std::vector<Tensor> tensors_;
    std::map<std::string, std::string> metadata_;
};

// Converts n elements of a floating-point tensor (F64, F32, F16, BF16) to float; other types
// are a lokal::Error.
std::vector<float> to_float(const Tensor& t);

}  // namespace lokal::safetensors
