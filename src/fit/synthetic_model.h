// A small model timed whole. A tiny model's speed is mostly fixed costs (thread-pool round trips,
// row ops, attention over short rows) that per-kernel rates cannot add up to within 15%, so fit
// runs the real forward pass instead, on a copy of the model made from its header
// alone: the same metadata (tokenizer included) and tensors of the same names, types and shapes,
// filled with random weights. It needs no weights, so it works on a registry header before a pull.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gguf/gguf_file.h"

namespace lokal::model {
class Model;
class Context;
}  // namespace lokal::model

namespace lokal::fit {

// Writes the copy of `header`'s model to `path`: its metadata, and for each tensor random values
// of its type (quantized from random floats; one-dimensional F32 tensors, norms and rope factors,
// positive around 1; types we cannot quantize, zeros). `layers` >= 0 keeps only the model's
// first `layers` layers: their tensors, its block count and its per-layer metadata arrays cut
// to match.
void write_synthetic_model(const gguf::File& header, const std::string& path, int layers = -1);

// The tensor bytes of that copy.
uint64_t synthetic_model_bytes(const gguf::File& header, int layers = -1);

struct ModelTimes {
    double prompt_seconds = 0;  // one n_prompt-token prompt from an empty context
    double token_seconds = 0;   // one generated token, averaged over n_gen from an empty context
};

// A copy (of `layers` layers, all when negative) loaded and set up to run as `lokal bench` runs
// the model: on the CPU, `threads` threads, the same context size and random prompt.
class SyntheticRun {
  public:
    SyntheticRun(const gguf::File& header, int threads, int n_prompt, int n_gen, int layers = -1);
    ~SyntheticRun();
    SyntheticRun(const SyntheticRun&) = delete;
    SyntheticRun& operator=(const SyntheticRun&) = delete;

    double prompt_seconds();  // one run of the n_prompt-token prompt from an empty context
    double token_seconds();   // one run of n_gen tokens from an empty context, per token

  private:
    int n_gen_;
    std::unique_ptr<model::Model> model_;
    std::unique_ptr<model::Context> ctx_;
    std::vector<int32_t> prompt_;
};

// Times the copy as `lokal bench` times the model (on the CPU, `threads` threads, the same
// context size and random prompt): the median of the runs of a quarter second (three at
// least) after a warm-up.
ModelTimes time_synthetic_model(const gguf::File& header, int threads, int n_prompt = 512,
                                int n_gen = 128, int layers = -1);

// A model too large to copy whole is timed as two copies of its first few layers (the layer
// counts of kTimedLayers): every layer has the same shapes and costs the same, and what the
// copies' times differ by is that cost. The real shapes run the real kernels, which per-kernel
// rates measured on other shapes only approximate.
constexpr std::pair<int, int> kTimedLayers = {1, 5};

// The times of all `n_layer` layers from those of copies of `a` and `b` layers: the part of the
// `a`-layer copy's time that is not its layers (embedding lookup, output, logits) plus n_layer
// layers at the copies' difference per layer.
ModelTimes extrapolate_layers(const ModelTimes& few, int a, const ModelTimes& more, int b,
                              int n_layer);

// Times the model as two copies of kTimedLayers layers (time_synthetic_model), extrapolated to
// all its layers (the two copies in turns, the median of the pairs' extrapolations); a model of
// no more layers than the larger copy is timed whole.
ModelTimes time_model_by_layers(const gguf::File& header, int threads, int n_prompt = 512,
                                int n_gen = 128);

}  // namespace lokal::fit
