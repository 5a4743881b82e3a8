// Gemma 2: scaled embeddings, GeGLU (tanh) feed-forward, extra norms after attention and after
// the feed-forward, soft-capped attention scores and final logits, and sliding-window attention
// on alternating layers. RMSNorm weights are stored with gemma's +1 already folded in.
#include <cmath>

#include "model/arch/arch.h"

namespace lokal::model::gemma2 {

// Gemma 2 27B (the only size with 46 layers) scales queries by its hidden size per head,
// n_embd / n_head, rather than by the head size, as its reference implementation does.
constexpr int kGemma2_27BLayers = 46;

void read_config(const gguf::File& file, ModelConfig& cfg) {
    read_common_config(file, cfg);
    const std::string a = cfg.arch + ".";
    cfg.rope.style = RopeStyle::NeoX;
    cfg.rope_swa.style = RopeStyle::NeoX;
    cfg.activation = Activation::GeluTanh;
    cfg.scale_embeddings = true;
    cfg.parts.post_norms = Part::Required;
    cfg.attn_softcap = (float)file.get_float(a + "attn_logit_softcapping").value_or(50.0);
    cfg.final_softcap = (float)file.get_float(a + "final_logit_softcapping").value_or(30.0);
    cfg.attn_scale = cfg.n_layer == kGemma2_27BLayers
                         ? 1.0f / std::sqrt((float)cfg.n_embd / cfg.n_head)
                         : 1.0f / std::sqrt((float)cfg.head_dim);
    read_sliding_window(file, cfg, 2);
}

void bind_weights(const WeightBinder& bind, const ModelConfig& cfg, Weights& w) {
    bind_llama_style_weights(bind, cfg, w);
}

}  // namespace lokal::model::gemma2
