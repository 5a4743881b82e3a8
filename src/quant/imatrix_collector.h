// Builds an importance matrix while a model runs text: for each weight, the sum over input rows
// of each column's squared activation and the number of rows (llama.cpp's imatrix statistics).
// Weights are recognised by where their rows lie, so the model must use the file's mapped rows
// (no repacked copies).
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>

#include "gguf/gguf_file.h"
#include "quant/imatrix_file.h"

namespace lokal::quant {

class ImatrixCollector {
  public:
    // Records the layers' weights (blk.*), and output.weight too when process_output (as
    // llama-imatrix, whose default leaves the output matrix out).
    ImatrixCollector(const gguf::File& file, bool process_output);

    // n input rows of `cols` floats each, back to back, entering a product with the weight whose
    // data starts at weight_data. False (and nothing recorded) for rows of no 2-D tensor of the
    // file.
    bool add(const void* weight_data, int64_t cols, const float* x, int n);

    // The statistics so far, with the file's metadata for the header.
    ImatrixStats stats(const std::string& dataset, uint32_t chunks, uint32_t chunk_size) const;

  private:
    struct Weight {
        std::string name;
        uint64_t cols = 0;
    };
    std::unordered_map<const void*, Weight> by_data_;
    std::unordered_map<std::string, ImatrixEntry> entries_;
};

}  // namespace lokal::quant
