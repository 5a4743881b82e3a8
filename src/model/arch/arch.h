// The architecture table: each architecture reads its hyperparameters and binds its weights.
// Registering one is a line in arch_registry.cpp plus its own file in this directory.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "gguf/gguf_file.h"
#include "model/config.h"
#include "model/weight_binder.h"
#include "model/weights.h"

namespace lokal::model {

struct ArchDesc {
    std::string_view name;  // general.architecture
    void (*read_config)(const gguf::File& file, ModelConfig& cfg);
    void (*bind_weights)(const WeightBinder& bind, const ModelConfig& cfg, Weights& w);
};

const ArchDesc* find_arch(std::string_view name);
std::string supported_arch_list();  // "llama, ..." for error messages

// Reads the keys every transformer shares ({arch}.embedding_length, block_count, heads, rope...).
void read_common_config(const gguf::File& file, ModelConfig& cfg);
// Binds the standard llama-style block tensors (attn_norm, q/k/v/o, ffn_norm, gate/up/down).
void bind_llama_style_weights(const WeightBinder& bind, const ModelConfig& cfg, Weights& w);

namespace llama {
void read_config(const gguf::File& file, ModelConfig& cfg);
void bind_weights(const WeightBinder& bind, const ModelConfig& cfg, Weights& w);
}  // namespace llama

}  // namespace lokal::model
