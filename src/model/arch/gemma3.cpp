// Gemma 3: gemma 2's block with per-head q/k RMSNorm instead of soft-capping, and five local
// (sliding-window, own rope base) layers for every global one.
#include <cmath>

#include "model/arch/arch.h"

namespace lokal::model::gemma3 {

// Gemma 3 27B (62 layers) scales queries by n_embd / n_head instead of the head size, as its
// reference implementation does (query_pre_attn_scalar).
constexpr int kGemma3_27BLayers = 62;

void read_config(const gguf::File& file, ModelConfig& cfg) {
    read_common_config(file, cfg);
    const std::string a = cfg.arch + ".";
    cfg.rope.style = RopeStyle::NeoX;
    cfg.activation = Activation::GeluTanh;
    cfg.scale_embeddings = true;
    cfg.parts.qk_norm = Part::Required;
    cfg.parts.post_norms = Part::Required;
    cfg.final_softcap = (float)file.get_float(a + "final_logit_softcapping").value_or(0.0);
    cfg.attn_scale = cfg.n_layer == kGemma3_27BLayers
                         ? 1.0f / std::sqrt((float)cfg.n_embd / cfg.n_head)
                         : 1.0f / std::sqrt((float)cfg.head_dim);
    read_sliding_window(file, cfg, 6);
    // Local layers use their own base and no long-context scaling.
    cfg.rope_swa = cfg.rope;
    cfg.rope_swa.freq_base = (float)file.get_float(a + "rope.freq_base_swa").value_or(10000.0);
    cfg.rope_swa.scaling = RopeScaling::None;
    cfg.rope_swa.freq_scale = 1.0f;
}

void bind_weights(const WeightBinder& bind, const ModelConfig& cfg, Weights& w) {
    bind_llama_style_weights(bind, cfg, w);
}

}  // namespace lokal::model::gemma3
