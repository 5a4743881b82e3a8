// Phi-3: fused q/k/v projection and fused gate+up feed-forward, NeoX rotary positions with
// LongRoPE per-frequency factors for long contexts.
#include "model/arch/arch.h"

namespace lokal::model::phi3 {

void read_config(const gguf::File& file, ModelConfig& cfg) {
    read_common_config(file, cfg);
    cfg.rope.style = RopeStyle::NeoX;
    // Like llama.cpp, phi3's sliding window is not applied (its GGUFs state it unreliably).
    WeightBinder b(file);
    // LongRoPE: the short factors apply while the context stays within the training length.
    if (auto f = b.optional_vector("rope_factors_short.weight", cfg.rope.n_rot / 2)) {
        cfg.rope.freq_factors = *f;
    }
    cfg.rope_swa = cfg.rope;
}

void bind_weights(const WeightBinder& bind, const ModelConfig& cfg, Weights& w) {
    bind_llama_style_weights(bind, cfg, w);
}

}  // namespace lokal::model::phi3
