// Hyperparameters of a decoder-only transformer, read from GGUF metadata. Architecture
// differences are typed fields here, never string keys in the forward pass.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lokal::model {

enum class RopeStyle {
    Normal,  // rotate adjacent pairs (x[2i], x[2i+1]) — llama
    NeoX,    // rotate halves (x[i], x[i + n_rot/2]) — qwen2, gemma, phi3
};

enum class RopeScaling { None, Linear, YaRN };

struct RopeConfig {
    RopeStyle style = RopeStyle::Normal;
    int n_rot = 0;  // rotated dimensions per head (<= head_dim)
    float freq_base = 10000.0f;
    RopeScaling scaling = RopeScaling::None;
    float freq_scale = 1.0f;  // 1 / scaling factor
    int n_ctx_orig = 0;       // training context for YaRN
    float yarn_ext_factor = 0.0f;
    float yarn_attn_factor = 1.0f;
    float yarn_beta_fast = 32.0f;
    float yarn_beta_slow = 1.0f;
    std::vector<float> freq_factors;  // per rotated pair (llama 3.1 rope_freqs), empty if none
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
};

}  // namespace lokal::model
