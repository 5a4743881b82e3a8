// A loaded model: its GGUF file (mmap'd), hyperparameters, bound weights and tokenizer.
// Immutable after load and shared by every Context that evaluates it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "gguf/gguf_file.h"
#include "model/config.h"
#include "model/repack.h"
#include "model/weights.h"
#include "tokenizer/tokenizer.h"

namespace lokal::model {

class Model {
  public:
    // Throws lokal::Error naming the problem (missing file, not GGUF, unknown architecture,
    // missing or misshapen tensor, unsupported dtype or tokenizer).
    static std::unique_ptr<Model> load(const std::string& path);
    // With the given repack cache instead of the environment's (repack_cache.h).
    static std::unique_ptr<Model> load(const std::string& path, const RepackCacheParams& cache);

    const ModelConfig& config() const { return config_; }
    const Weights& weights() const { return weights_; }
    const tokenizer::Tokenizer& tokenizer() const { return *tokenizer_; }
    const gguf::File& file() const { return *file_; }
    const PackedWeights& packed() const { return packed_; }
    // Names this model, and no other, for the life of the process (its address may be reused
    // by a later model): the key of its weights' copy on a device (vk::shared_weights).
    uint64_t id() const { return id_; }

  private:
    Model();
    uint64_t id_;
    std::unique_ptr<gguf::File> file_;
    ModelConfig config_;
    Weights weights_;
    PackedWeights packed_;
    std::unique_ptr<tokenizer::Tokenizer> tokenizer_;
};

}  // namespace lokal::model
