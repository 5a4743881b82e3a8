// GGUF writer: builds a GGUF v3 file in memory (to_bytes) or streams it to disk (write_file,
// atomically: a temporary file in the same directory, then rename). Keys keep their insertion
// order; setting a key again replaces its value in place. Tensor data is aligned to
// general.alignment (default 32) and padded with zeros.
//
// The writer only writes files our reader accepts: every value, shape, size and the alignment is
// checked when it is added, and a problem is a lokal::Error naming the key or tensor.
//
//     Writer w;
//     w.set_string("general.architecture", "llama");
//     w.set_u32("llama.block_count", 2);
//     w.add_random_tensor("token_embd.weight", DType::Q8_0, {64, 512}, /*seed=*/1);
//     w.add_tensor("output_norm.weight", DType::F32, {64}, norm.data(), norm.size() * 4);
//     w.write_file(path);
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gguf/gguf_file.h"
#include "tensor/dtype.h"

namespace lokal::gguf {

// Value constructors, for set_value and nested arrays.
Value make_int(ValueType type, int64_t v);   // any integer type; uint64 as its bit pattern
Value make_float(ValueType type, double v);  // FLOAT32 or FLOAT64
Value make_bool(bool v);
Value make_string(std::string v);
Value make_string_array(std::vector<std::string> v);
Value make_int_array(ValueType elem, std::vector<int64_t> v);   // elem: any integer type or BOOL
Value make_float_array(ValueType elem, std::vector<double> v);  // elem: FLOAT32 or FLOAT64
Value make_array_array(std::vector<Value> v);  // every element an ARRAY (of any element type)

class Writer {
  public:
    // --- metadata ---------------------------------------------------------------------------
    // Throws lokal::Error when the value is inconsistent (an array whose element vector does not
    // match elem_type, an integer out of its type's range, arrays nested deeper than the reader
    // allows) or when key is general.alignment and the value is not a power of two.
    void set_value(std::string_view key, Value v);

    void set_u8(std::string_view key, uint8_t v);
    void set_i8(std::string_view key, int8_t v);
    void set_u16(std::string_view key, uint16_t v);
    void set_i16(std::string_view key, int16_t v);
    void set_u32(std::string_view key, uint32_t v);
    void set_i32(std::string_view key, int32_t v);
    void set_u64(std::string_view key, uint64_t v);
    void set_i64(std::string_view key, int64_t v);
    void set_f32(std::string_view key, float v);
    void set_f64(std::string_view key, double v);
    void set_bool(std::string_view key, bool v);
    void set_string(std::string_view key, std::string_view v);

    void set_string_array(std::string_view key, std::vector<std::string> v);
    void set_f32_array(std::string_view key, std::span<const float> v);
    void set_f64_array(std::string_view key, std::span<const double> v);
    void set_i32_array(std::string_view key, std::span<const int32_t> v);
    void set_u32_array(std::string_view key, std::span<const uint32_t> v);
    void set_i64_array(std::string_view key, std::span<const int64_t> v);
    void set_u8_array(std::string_view key, std::span<const uint8_t> v);
    void set_bool_array(std::string_view key, const std::vector<bool>& v);

    // Removes a key; false when it was not there.
    bool remove(std::string_view key);
    const Value* find(std::string_view key) const;
    const std::vector<std::pair<std::string, Value>>& metadata() const { return metadata_; }

    // Sets general.alignment (as uint32). n must be a power of two, at most 2^30.
    void set_alignment(uint64_t n);
    uint64_t alignment() const;

    // --- tensors ----------------------------------------------------------------------------
    // dims are innermost first (dims[0] = cols; see tensor/dtype.h), 1 to 4 of them, none zero;
    // dims[0] must be a multiple of the type's block size and `bytes` must be exactly the
    // tensor's size. Names are unique and shorter than 64 bytes (ggml's limit).

    // Copies the data.
    void add_tensor(std::string_view name, DType type, std::vector<uint64_t> dims, const void* data,
                    size_t bytes);
    // Takes the bytes.
    void add_tensor(std::string_view name, DType type, std::vector<uint64_t> dims,
                    std::vector<uint8_t> data);
    // Keeps only the pointer: the caller keeps data alive until the last to_bytes/write_file.
    void add_tensor_ref(std::string_view name, DType type, std::vector<uint64_t> dims,
                        const void* data, size_t bytes);
    // The bytes come from `produce` while the file is written (write_file / to_bytes), one
    // tensor at a time and in order, so converted tensors never have to be held in memory all
    // at once. produce must return exactly `bytes` bytes; it may throw to abandon the file.
    void add_tensor_deferred(std::string_view name, DType type, std::vector<uint64_t> dims,
                             size_t bytes, std::function<std::vector<uint8_t>()> produce);
    // Converts n_elements floats to `type` (quantizing row by row with tensor/quantize.h).
    void add_tensor_f32(std::string_view name, DType type, std::vector<uint64_t> dims,
                        std::span<const float> values);
    // Deterministic pseudo-random weights, uniform in [-scale, scale], stored as `type`. The
    // same seed gives the same bytes on every platform.
    void add_random_tensor(std::string_view name, DType type, std::vector<uint64_t> dims,
                           uint64_t seed, float scale = 0.05f);

    size_t tensor_count() const { return tensors_.size(); }

    // --- output -----------------------------------------------------------------------------
    std::vector<uint8_t> to_bytes() const;
    // Writes to a temporary file next to `path`, flushes it to disk, then renames it over `path`.
    // On failure the temporary file is removed and `path` is untouched.
    void write_file(const std::string& path) const;
    // Size in bytes of the file to_bytes/write_file produce.
    uint64_t file_size() const;

  private:
    struct Tensor {
        std::string name;
        DType type = DType::F32;
        std::vector<uint64_t> dims;
        std::vector<uint8_t> owned;     // the data, unless added by add_tensor_ref
        const uint8_t* data = nullptr;  // add_tensor_ref's pointer (so copies of a Writer work)
        std::function<std::vector<uint8_t>()> produce;  // add_tensor_deferred's
        uint64_t bytes = 0;
        const uint8_t* bytes_ptr() const { return data ? data : owned.data(); }
    };

    template <typename Sink>
    void emit(Sink& sink) const;
    std::vector<uint8_t> header_bytes() const;  // everything before the tensor data
    Tensor& new_tensor(std::string_view name, DType type, std::vector<uint64_t> dims, size_t bytes);

    std::vector<std::pair<std::string, Value>> metadata_;
    std::vector<Tensor> tensors_;
};

}  // namespace lokal::gguf
