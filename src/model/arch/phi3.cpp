// Phi-3: fused q/k/v projection and fused gate+up feed-forward, NeoX rotary positions with
// LongRoPE per-frequency factors for long contexts.
#include <cmath>

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
    if (auto f = b.optional_vector("rope_factors_long.weight", cfg.rope.n_rot / 2)) {
        cfg.rope.freq_factors_long = *f;
        const int n_ctx_orig = (int)file.get_int("phi3.rope.scaling.original_context_length")
                                   .value_or(cfg.n_ctx_train);
        cfg.rope.n_ctx_orig = n_ctx_orig;
        // LongRoPE's attention scale: sqrt(1 + ln(s) / ln(n_ctx_orig)), s = train / original.
        const double scale = (double)cfg.n_ctx_train / n_ctx_orig;
        cfg.rope.long_attn_factor =
            (float)file.get_float("phi3.rope.scaling.attn_factor")
                .value_or(scale > 1.0 ? std::sqrt(1.0 + std::log(scale) / std::log(n_ctx_orig))
                                      : 1.0);
    }
    cfg.rope_swa = cfg.rope;
}

void bind_weights(const WeightBinder& bind, const ModelConfig& cfg, Weights& w) {
    bind_llama_style_weights(bind, cfg, w);
}

}  // namespace lokal::model::phi3
