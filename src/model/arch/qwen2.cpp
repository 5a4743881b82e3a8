// Qwen 2 / 2.5: the llama block with biases on q, k and v, and NeoX-style rotary positions.
#include "model/arch/arch.h"

namespace lokal::model::qwen2 {

void read_config(const gguf::File& file, ModelConfig& cfg) {
    read_common_config(file, cfg);
    cfg.rope.style = RopeStyle::NeoX;
    cfg.parts.qkv_bias = Part::Required;
}

void bind_weights(const WeightBinder& bind, const ModelConfig& cfg, Weights& w) {
    bind_llama_style_weights(bind, cfg, w);
}

}  // namespace lokal::model::qwen2
