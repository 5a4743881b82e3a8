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
// Reads {arch}.attention.sliding_window and its layer pattern (an int n: every n-th layer is
// global; or an array of per-layer flags).
void read_sliding_window(const gguf::File& file, ModelConfig& cfg, int default_pattern);
// A block part's vector tensor as cfg.parts states it (empty when absent or optional and missing).
std::vector<float> bind_part(const WeightBinder& b, const ModelConfig& cfg, Part part,
                             const std::string& name, int64_t n);
// Binds the standard llama-style block tensors (attn_norm, q/k/v/o, ffn_norm, gate/up/down) and
// the optional parts cfg.parts names.
void bind_llama_style_weights(const WeightBinder& bind, const ModelConfig& cfg, Weights& w);

// Each architecture's two entry points (src/model/arch/<name>.cpp).
#define LOKAL_DECLARE_ARCH(ns)                                                       \
    namespace ns {                                                                   \
    void read_config(const gguf::File& file, ModelConfig& cfg);                      \
    void bind_weights(const WeightBinder& bind, const ModelConfig& cfg, Weights& w); \
    }
LOKAL_DECLARE_ARCH(llama)
LOKAL_DECLARE_ARCH(qwen2)
LOKAL_DECLARE_ARCH(qwen3)
LOKAL_DECLARE_ARCH(gemma2)
LOKAL_DECLARE_ARCH(gemma3)
LOKAL_DECLARE_ARCH(phi3)
LOKAL_DECLARE_ARCH(bert)
#undef LOKAL_DECLARE_ARCH

}  // namespace lokal::model
