// GGUF reader: memory-maps a model file and validates every count, length, offset and size
// before anything is used. A malformed or truncated file is a lokal::Error naming the problem.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/mapped_file.h"
#include "tensor/dtype.h"

namespace lokal::gguf {

enum class ValueType : uint32_t {
    UINT8 = 0,
    INT8 = 1,
    UINT16 = 2,
    INT16 = 3,
    UINT32 = 4,
    INT32 = 5,
    FLOAT32 = 6,
    BOOL = 7,
    STRING = 8,
    ARRAY = 9,
    UINT64 = 10,
    INT64 = 11,
    FLOAT64 = 12,
};

std::string_view value_type_name(ValueType t);

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" little-endian
constexpr uint64_t kDefaultAlignment = 32;
constexpr int kMaxDims = 4;
constexpr int kMaxArrayNesting = 8;  // arrays of arrays, at most this many levels

// One metadata value. Scalars live in `i` (every integer type and bool; uint64 as its bit
// pattern) or `f`; arrays keep their elements typed: strings, ints, floats, or nested arrays.
struct Value {
    ValueType type = ValueType::UINT8;
    ValueType elem_type = ValueType::UINT8;  // element type when type == ARRAY
    int64_t i = 0;
    double f = 0;
    std::string str;
    std::vector<std::string> strings;  // ARRAY of STRING
    std::vector<int64_t> ints;         // ARRAY of integer / bool types
    std::vector<double> floats;        // ARRAY of FLOAT32 / FLOAT64
    std::vector<Value> arrays;         // ARRAY of ARRAY

    bool is_integer() const;  // any integer type or bool
    bool is_float() const;
    size_t array_size() const;
};

struct TensorInfo {
    std::string name;
    std::vector<uint64_t> dims;  // innermost first: dims[0] = cols of a row-major matrix
    DType type = DType::F32;
    uint64_t offset = 0;  // from the start of the data section
    uint64_t n_elements = 0;
    uint64_t n_bytes = 0;
    const uint8_t* data = nullptr;  // points into the mapped file

    uint64_t cols() const { return dims.empty() ? 1 : dims[0]; }
    uint64_t rows() const { return n_elements / cols(); }
    std::string shape_string() const;  // "[64, 512]"
};

class File {
  public:
    // Maps and parses the file at `path`.
    static std::unique_ptr<File> open(const std::string& path);
    // Parses a buffer the caller keeps alive (used by the fuzzer and tests).
    static std::unique_ptr<File> parse(const uint8_t* data, size_t size);
    // Parses the first `size` bytes of a GGUF file of `file_size` bytes (a download's first
    // bytes): metadata and tensor infos, tensors checked against file_size; every tensor's data
    // is nullptr. A lokal::Error when the header runs past `size` (read more and retry).
    static std::unique_ptr<File> parse_header(const uint8_t* data, size_t size,
                                              uint64_t file_size);

    uint32_t version() const { return version_; }
    uint64_t alignment() const { return alignment_; }
    uint64_t data_offset() const { return data_offset_; }
    size_t size() const { return size_; }
    const std::string& path() const { return path_; }

    const std::vector<std::pair<std::string, Value>>& metadata() const { return metadata_; }
    const Value* find(std::string_view key) const;
    bool has(std::string_view key) const { return find(key) != nullptr; }

    // Typed getters: nullopt when the key is absent; a lokal::Error when present with a type that
    // cannot be read as asked (e.g. a string where a number is expected).
    std::optional<std::string> get_string(std::string_view key) const;
    std::optional<int64_t> get_int(std::string_view key) const;
    std::optional<double> get_float(std::string_view key) const;  // also accepts integers
    std::optional<bool> get_bool(std::string_view key) const;
    // Arrays; nullptr when absent, lokal::Error on a wrong element type.
    const std::vector<std::string>* get_string_array(std::string_view key) const;
    const std::vector<int64_t>* get_int_array(std::string_view key) const;
    // Float arrays accept integer arrays too (converted).
    std::vector<double> get_float_array(std::string_view key) const;

    const std::vector<TensorInfo>& tensors() const { return tensors_; }
    const TensorInfo* find_tensor(std::string_view name) const;

    // Drops tensor bytes that were copied elsewhere from the resident set (mapped files only;
    // a no-op for parsed buffers). They fault back in from the file if read again.
    void release_pages(const uint8_t* p, size_t n) const {
        if (mapping_) mapping_->release_pages(p, n);
    }

  private:
    File() = default;
    // file_size: the whole file's size when only its first `size` bytes are at data.
    void parse_all(const uint8_t* data, size_t size, uint64_t file_size);

    std::unique_ptr<MappedFile> mapping_;
    std::string path_;
    size_t size_ = 0;
    uint32_t version_ = 0;
    uint64_t alignment_ = kDefaultAlignment;
    uint64_t data_offset_ = 0;
    std::vector<std::pair<std::string, Value>> metadata_;
    std::unordered_map<std::string, size_t> metadata_index_;
    std::vector<TensorInfo> tensors_;
    std::unordered_map<std::string, size_t> tensor_index_;
};

}  // namespace lokal::gguf
