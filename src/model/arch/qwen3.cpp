// Qwen 3: the llama block with per-head RMSNorm on queries and keys, NeoX rotary positions.
#include "model/arch/arch.h"

namespace lokal::model::qwen3 {

void read_config(const gguf::File& file, ModelConfig& cfg) {
    read_common_config(file, cfg);
    cfg.rope.style = RopeStyle::NeoX;
    cfg.parts.qk_norm = Part::Required;
}

void bind_weights(const WeightBinder& bind, const ModelConfig& cfg, Weights& w) {
    bind_llama_style_weights(bind, cfg, w);
}

}  // namespace lokal::model::qwen3
