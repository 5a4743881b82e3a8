// Small models, whose weights stay in the CPU's caches between tokens, run their matrices much
// faster than the streaming rates of TypeSpeed say, and their narrow matrices multiply below the
// batched rate of large ones. For them the prediction times random matrices of the model's own
// types and shapes instead, in the order a forward pass runs them.
#pragma once

#include <cstdint>
#include <vector>

#include "gguf/gguf_file.h"

namespace lokal::fit {

// One matrix a forward pass multiplies.
struct MatrixShape {
    DType type;
    int64_t rows, cols;
    bool output;  // the logits projection: one row per prompt, not all of them
};

// The matrices every token multiplies, in file order (an untied token embedding is only looked up).
std::vector<MatrixShape> streamed_matrices(const gguf::File& file);

// The last-level cache of this CPU in bytes (sysfs), 0 when unknown.
uint64_t last_level_cache_bytes();

// True when the model's matrices (as the CPU kernels hold them) fit in half the last-level
// cache: they then stay cached from one token to the next.
bool stays_in_cache(const std::vector<MatrixShape>& shapes);

struct ShapeTimes {
    double token_seconds = 0;   // every matrix times one row: a generated token
    double prompt_seconds = 0;  // every matrix times n_prompt rows (the output: one row)
    int matrices = 0;           // products per pass (each includes its thread-pool round trip)
};

// Times one pass over random matrices of these shapes, both ways (best of several).
ShapeTimes time_shapes(const std::vector<MatrixShape>& shapes, int threads, int n_prompt = 512);

}  // namespace lokal::fit
