// The small numeric building blocks of a transformer forward pass (scalar, float).
#pragma once

#include <cstdint>

#include "model/config.h"

namespace lokal::model {

// out = x / rms(x) * w  (out may alias x)
void rms_norm(const float* x, const float* w, float* out, int n, float eps);

// Rotary position embedding, computed per position into a cos/sin table of n_rot/2 pairs.
struct RopeTable {
    void compute(const RopeConfig& rope, int pos);
    float cos[512];
    float sin[512];
};
// Rotates the first n_rot dims of each of n_heads heads (head_dim apart) in place.
void rope_apply(float* x, int n_heads, int head_dim, const RopeConfig& rope, const RopeTable& t);

// x[i] = silu(gate[i]) * up[i]
void swiglu(const float* gate, const float* up, float* out, int n);

// out[i] = gelu_tanh(gate[i]) * up[i]
void geglu(const float* gate, const float* up, float* out, int n);

// out = (x - mean) / sqrt(var + eps) * w + b  (out may alias x)
void layer_norm(const float* x, const float* w, const float* b, float* out, int n, float eps);

// x[i] = gelu_tanh(x[i]) through the F16 table (as llama.cpp computes it)
void gelu_inplace(float* x, int n);

// x[i] += b[i]
void add_bias(float* x, const float* b, int n);

// In place softmax over n values; returns nothing, rows of -inf stay zero-safe.
void softmax(float* x, int n);

}  // namespace lokal::model
