// A small model timed whole. A tiny model's speed is mostly fixed costs (thread-pool round trips,
// row ops, attention over short rows) that per-kernel rates cannot add up to within 15%, so fit
// runs the real forward pass instead, on a copy of the model made from its header
// alone: the same metadata (tokenizer included) and tensors of the same names, types and shapes,
// filled with random weights. It needs no weights, so it works on a registry header before a pull.
#pragma once

#include <string>

#include "gguf/gguf_file.h"

namespace lokal::fit {

// Writes the copy of `header`'s model to `path`: its metadata, and for each tensor random values
// of its type (quantized from random floats; one-dimensional F32 tensors, norms and rope factors,
// positive around 1; types we cannot quantize, zeros).
void write_synthetic_model(const gguf::File& header, const std::string& path);

struct ModelTimes {
    double prompt_seconds = 0;  // one n_prompt-token prompt from an empty context
    double token_seconds = 0;   // one generated token, averaged over n_gen from an empty context
};

// Times the copy as `lokal bench` times the model (on the CPU, `threads` threads, the same
// context size and random prompt): the median of the runs of a quarter second (three at
// least) after a warm-up.
ModelTimes time_synthetic_model(const gguf::File& header, int threads, int n_prompt = 512,
                                int n_gen = 128);

}  // namespace lokal::fit
