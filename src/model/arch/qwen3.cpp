// Qwen 3: the llama block with per-head RMSNorm on queries and keys, NeoX rotary positions.
#include "base/error.h"
#include "model/arch/arch.h"

namespace lokal::model::qwen3 {

void read_config(const gguf::File& file, ModelConfig& cfg) {
    read_common_config(file, cfg);
    cfg.rope.style = RopeStyle::NeoX;
}

void bind_weights(const WeightBinder& bind, const ModelConfig& cfg, Weights& w) {
    bind_llama_style_weights(bind, cfg, w);
    for (size_t l = 0; l < w.layers.size(); ++l) {
        if (w.layers[l].q_norm.empty() || w.layers[l].k_norm.empty()) {
            throw Error("qwen3 layer " + std::to_string(l) + " lacks attn_q_norm/attn_k_norm");
        }
    }
}

}  // namespace lokal::model::qwen3
