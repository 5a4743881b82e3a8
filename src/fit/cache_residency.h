// Small models, whose weights stay in the CPU's caches between tokens, run their matrices much
// faster than the streaming rates of TypeSpeed say, and their per-op fixed costs weigh more than
// any rate. Such models, and any that a few seconds of runs cover, are timed whole instead
// (fit/synthetic_model.h); this decides which.
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

// The most weight bytes fit times whole when they do not stay in the cache: a 270M model's
// 250 MB take about ten seconds of runs, once per machine (the result is cached).
constexpr uint64_t kTimedWholeBytes = 512ull << 20;

// True when fit times this model whole: it stays in the cache, or its weights are at most
// kTimedWholeBytes and a quarter of `available_memory` (the copy is made in memory).
bool timed_whole(const gguf::File& file, uint64_t available_memory);

// True when fit can time a model that is not timed whole as copies of its first few layers
// (time_model_by_layers): the two copies' weights together are at most a quarter of
// `available_memory`.
bool timed_by_layers(const gguf::File& file, uint64_t available_memory);

}  // namespace lokal::fit
