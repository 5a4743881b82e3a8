// Llama 1/2/3.x, Mistral, TinyLlama, SmolLM: pre-norm RMSNorm blocks, rotary positions on
// adjacent pairs, grouped-query attention, SwiGLU feed-forward, optionally tied output.
#include "model/arch/arch.h"

namespace lokal::model::llama {

void read_config(const gguf::File& file, ModelConfig& cfg) {
    read_common_config(file, cfg);
    cfg.rope.style = RopeStyle::Normal;
    cfg.parts.qkv_bias = Part::Optional;  // some llama-architecture finetunes carry them
    // Llama 3.1+ stores per-frequency divisors for long context in rope_freqs.weight.
    if (const gguf::TensorInfo* t = file.find_tensor("rope_freqs.weight")) {
        WeightBinder b(file);
        cfg.rope.freq_factors = b.vector("rope_freqs.weight", cfg.rope.n_rot / 2);
        (void)t;
    }
}

void bind_weights(const WeightBinder& bind, const ModelConfig& cfg, Weights& w) {
    bind_llama_style_weights(bind, cfg, w);
}

}  // namespace lokal::model::llama
