// lokal quantize: reads a GGUF model, converts its tensors to a file type's mix (quant_mix.h)
// on a thread pool, and writes a new GGUF (temporary file, then rename) whose metadata is the
// input's with general.file_type and general.quantization_version set.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "quant/quant_mix.h"

namespace lokal::quant {

// Per-tensor importance (importance-matrix rows keyed by tensor name: one value per column,
// times the number of experts for 3-D expert tensors).
using Importance = std::unordered_map<std::string, std::vector<float>>;

struct QuantizeOptions {
    int threads = 0;                   // 0: ThreadPool::default_threads()
    bool allow_requantize = false;     // accept already-quantized input tensors
    bool leave_output_tensor = false;  // output.weight is copied as it is
    bool pure = false;                 // no mix: every quantizable tensor gets the base type
    const Importance* importance = nullptr;
    // Called after each tensor with the elements done and the total (for a progress bar).
    std::function<void(uint64_t done, uint64_t total)> progress;
};

struct QuantizedTensor {
    std::string name;
    DType from = DType::F32;
    DType to = DType::F32;
    bool fell_back = false;
    bool used_importance = false;
};

struct QuantizeResult {
    uint64_t bytes_in = 0;  // tensor data
    uint64_t bytes_out = 0;
    std::vector<QuantizedTensor> tensors;  // in output order
};

// Throws lokal::Error: an unreadable input, an input tensor that is quantized (unless
// allow_requantize) or of a type we cannot read, a disk that fills up (nothing is left at
// out_path then).
QuantizeResult quantize_file(const std::string& in_path, const std::string& out_path,
                             const FileType& ft, const QuantizeOptions& options);
}  // namespace lokal::quant
