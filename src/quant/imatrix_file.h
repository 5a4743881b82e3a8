// Importance-matrix files, in llama.cpp's two formats so that lokal and llama.cpp read each
// other's: the GGUF one (general.type = "imatrix"; per matmul weight W, tensors "W.in_sum2"
// [cols, experts] with the sums of squared inputs and "W.counts" [1, experts] with the number
// of input rows summed) and the legacy .dat one (a count of entries, then per entry its name,
// ncall and the means scaled by ncall).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "quant/quantize_file.h"

namespace lokal::quant {

struct ImatrixEntry {
    std::vector<float> sums;    // per column (times experts): sum of squared activations
    std::vector<float> counts;  // per expert: rows summed
};

struct ImatrixStats {
    std::map<std::string, ImatrixEntry> entries;  // by weight name
    std::vector<std::string> datasets;            // the text files
    uint32_t chunk_count = 0;
    uint32_t chunk_size = 0;  // tokens per chunk
};

// Writes the GGUF format (temporary file, then rename).
void write_imatrix(const std::string& path, const ImatrixStats& stats);

// Reads either format and returns the importance of each weight's columns (the mean squared
// activation; 1 for an expert that saw no rows), as quantize uses it. Throws lokal::Error for a
// file that is neither, or malformed.
Importance read_imatrix(const std::string& path);

}  // namespace lokal::quant
