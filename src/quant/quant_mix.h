// Which type each tensor of a model gets when a file is quantized to a "file type" (Q4_K_M, ...),
// the way llama-quantize chooses: 1-D tensors, norms and a few small tables keep their type,
// output.weight (or the token embeddings it is tied to) gets Q6_K, attn_v / ffn_down get more
// bits in the _M/_L mixes depending on the layer, and a tensor whose rows are not a whole
// number of blocks falls back to a type with smaller blocks.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tensor/dtype.h"

namespace lokal::quant {

// A llama.cpp file type (general.file_type): its number, name and the type most tensors get.
struct FileType {
    uint32_t id = 0;
    std::string_view name;  // "Q4_K_M"
    DType base = DType::F16;
};

// The file types lokal quantize writes, in llama.cpp's numbering.
const std::vector<FileType>& file_types();
// Case-insensitive look-up by name ("q4_k_m", "Q8_0", "f16"); nullopt for an unknown name.
std::optional<FileType> find_file_type(std::string_view name);

// What the choice depends on besides the tensor itself (from the GGUF metadata).
struct ModelShape {
    std::string arch;   // general.architecture
    int n_layer = 0;    // {arch}.block_count
    int n_head = 0;     // {arch}.attention.head_count (layer 0 when per layer)
    int n_head_kv = 0;  // {arch}.attention.head_count_kv (n_head when absent)
    int n_expert = 0;   // {arch}.expert_count
    int gqa() const { return n_head_kv > 0 ? n_head / n_head_kv : 0; }
};

struct MixOptions {
    bool pure = false;                 // every quantizable tensor gets the base type
    bool leave_output_tensor = false;  // output.weight keeps its type
    bool has_imatrix = false;          // a few choices differ with an importance matrix
};

struct TensorDesc {
    std::string name;
    std::vector<uint64_t> dims;  // innermost first
    DType type = DType::F32;     // its type in the input file
};

struct TensorPlan {
    size_t index = 0;  // into the TensorDesc list given
    DType type = DType::F32;
    bool fell_back = false;  // rows not a whole number of the chosen type's blocks
};

// The plan for every tensor, in llama-quantize's processing (and file) order: tensors outside
// the layers first, then layer by layer, by name within a layer. The order matters: the
// per-layer choices count attn_v / ffn_down tensors as they come.
std::vector<TensorPlan> plan_tensor_types(const FileType& ft, const ModelShape& shape,
                                          const std::vector<TensorDesc>& tensors,
                                          const MixOptions& options);

// True when a tensor of this name and shape is ever quantized (matrices named *weight, not
// norms, expert routers, position/token-type embeddings, ...).
bool tensor_is_quantizable(const TensorDesc& t, bool leave_output_tensor);

}  // namespace lokal::quant
