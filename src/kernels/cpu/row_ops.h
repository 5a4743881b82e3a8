// The small row operations of a transformer forward pass: norms, gated activations, biases,
// softmax (float; SwiGLU has an AVX2 version, bit-identical, picked by swiglu()).
#pragma once

#include <cstdint>


namespace lokal::kernels {

// out = x / rms(x) * w  (out may alias x)
void rms_norm(const float* x, const float* w, float* out, int n, float eps);

// x[i] = silu(gate[i]) * up[i]
void swiglu(const float* gate, const float* up, float* out, int n);

// swiglu's kernel on a given instruction set (tests): the scalar reference or its AVX2 twin.
using GluFn = void (*)(const float* gate, const float* up, float* out, int n);
enum class Isa;
GluFn swiglu_kernel(Isa isa);

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

}  // namespace lokal::kernels
