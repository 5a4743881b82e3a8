// Tensor element types, numbered as GGUF/ggml numbers them, and their block geometry.
//
// Tensor convention (the one for the whole code base): row-major, y = W·x. A weight W with shape
// (rows, cols) is stored as `rows` consecutive rows of `cols` elements; GGUF lists dims innermost
// first, so dims = {cols, rows}. Quantized rows are sequences of blocks of block_elems elements.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace lokal {

enum class DType : uint32_t {
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q4_1 = 3,
    Q5_0 = 6,
    Q5_1 = 7,
    Q8_0 = 8,
    Q8_1 = 9,
    Q2_K = 10,
    Q3_K = 11,
    Q4_K = 12,
    Q5_K = 13,
    Q6_K = 14,
    Q8_K = 15,
    IQ2_XXS = 16,
    IQ2_XS = 17,
    IQ3_XXS = 18,
    IQ1_S = 19,
    IQ4_NL = 20,
    IQ3_S = 21,
    IQ2_S = 22,
    IQ4_XS = 23,
    I8 = 24,
    I16 = 25,
    I32 = 26,
    I64 = 27,
    F64 = 28,
    IQ1_M = 29,
    BF16 = 30,
    TQ1_0 = 34,
    TQ2_0 = 35,
};

// Row converters: n elements (a multiple of block_elems).
using ToFloatFn = void (*)(const void* src, float* dst, int64_t n);
using FromFloatFn = void (*)(const float* src, void* dst, int64_t n);

// One row per type (dtype.cpp), read by every place that needs a type's properties instead of
// a switch of its own.
struct DTypeInfo {
    std::string_view name;     // "q4_K", as llama.cpp names it
    uint32_t block_elems = 0;  // elements per block (1 for plain types)
    uint32_t block_bytes = 0;  // bytes per block
    bool can_compute = false;  // we run models stored in it
    // What activations are converted to for dot products with weights of this type (ggml's
    // vec_dot_type): Q8_0 for Q4_0, Q8_K for the K types, the type itself for F32/F16/BF16.
    DType act_type = DType::F32;
    ToFloatFn to_float = nullptr;      // dequantize; nullptr: not supported
    FromFloatFn from_float = nullptr;  // quantize; nullptr: not supported
};

// Info for a raw GGUF type id; nullopt when the id is not a known ggml type.
std::optional<DTypeInfo> dtype_info(uint32_t type_id);
const DTypeInfo& dtype_info(DType t);  // t must be a known type
std::string_view dtype_name(DType t);

// Bytes of a row of n elements; n must be a multiple of block_elems.
inline uint64_t row_bytes(DType t, uint64_t n) {
    const DTypeInfo& info = dtype_info(t);
    return n / info.block_elems * info.block_bytes;
}

}  // namespace lokal
