// Rotary position embeddings: the variants the architectures use (adjacent pairs or halves,
// linear and YaRN scaling, per-pair frequency factors, LongRoPE's long factors) and their
// application to query and key heads.
#pragma once

#include <vector>

namespace lokal::kernels {

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
    // LongRoPE (phi3): factors and attention scale for contexts beyond n_ctx_orig; a Context
    // that large uses them in place of freq_factors.
    std::vector<float> freq_factors_long;
    float long_attn_factor = 1.0f;
};

// The cos/sin table of one position: n_rot / 2 pairs.
struct RopeTable {
    void compute(const RopeConfig& rope, int pos);
    float cos[512];
    float sin[512];
};
// Rotates the first n_rot dims of each of n_heads heads (head_dim apart) in place.
void rope_apply(float* x, int n_heads, int head_dim, const RopeConfig& rope, const RopeTable& t);

}  // namespace lokal::kernels
