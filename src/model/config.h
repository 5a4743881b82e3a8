// Hyperparameters of a decoder-only transformer, read from GGUF metadata. Architecture
// differences are typed fields here, never string keys in the forward pass.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "kernels/cpu/rope.h"

namespace lokal::model {

using kernels::RopeConfig;
using kernels::RopeScaling;
using kernels::RopeStyle;

// Rank: a reranker (cross-encoder): the CLS state through the classifier head gives scores.
enum class Pooling { None = 0, Mean = 1, Cls = 2, Last = 3, Rank = 4 };

using backends::Activation;

// Whether a block part's tensors belong to an architecture. Binding requires exactly what the
// architecture states: a Required tensor that is missing, or an Absent one that is present,
// fails the load with an error naming the tensor.
enum class Part { Absent, Optional, Required };

// The optional parts of a decoder block (the rest of it every architecture has).
struct BlockParts {
    Part qkv_bias = Part::Absent;    // attn_{q,k,v}.bias (qwen2; llama files may carry them)
    Part qk_norm = Part::Absent;     // per-head attn_{q,k}_norm.weight (qwen3, gemma3)
    Part post_norms = Part::Absent;  // post_attention_norm, post_ffw_norm (gemma2, gemma3)
};

struct ModelConfig {
    std::string arch;  // general.architecture
    std::string name;  // general.name
    int n_vocab = 0;
    int n_embd = 0;
    int n_layer = 0;
    int n_head = 0;
    int n_head_kv = 0;
    int head_dim = 0;  // key/value head size
    int n_ff = 0;
    int n_ctx_train = 0;
    float norm_eps = 1e-5f;
    RopeConfig rope;
    Activation activation = Activation::SiLU;
    BlockParts parts;

    // Gemma: scale token embeddings by sqrt(n_embd).
    bool scale_embeddings = false;
    // Attention score scale; 0 means 1/sqrt(head_dim).
    float attn_scale = 0.0f;
    // Soft-capping: x -> cap * tanh(x / cap); 0 disables (gemma2).
    float attn_softcap = 0.0f;
    float final_softcap = 0.0f;

    // Sliding-window attention: layers flagged in swa_layers see only the last n_swa positions
    // and use rope_swa (e.g. gemma3's separate local rope base).
    int n_swa = 0;
    std::vector<bool> swa_layers;
    RopeConfig rope_swa;

    // Encoder-only models (BERT family): bidirectional attention, used for embeddings.
    bool encoder_only = false;
    Pooling pooling = Pooling::Last;

    bool is_swa(int layer) const {
        return n_swa > 0 && layer < (int)swa_layers.size() && swa_layers[layer];
    }
};

}  // namespace lokal::model
