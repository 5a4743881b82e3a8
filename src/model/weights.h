// Weights of a decoder-only transformer. Matrices stay in their stored (mmap'd, possibly
// quantized) form; small vectors (norms, biases) are converted to float at load.
// Shapes are (rows, cols), y = W·x.
#pragma once

#include <vector>

#include "kernels/cpu/matmul.h"

namespace lokal::model {

using kernels::MatrixView;

struct LayerWeights {
    std::vector<float> attn_norm;  // (n_embd)
    MatrixView wq;                 // (n_head * head_dim, n_embd)
    MatrixView wk;                 // (n_head_kv * head_dim, n_embd)
    MatrixView wv;                 // (n_head_kv * head_dim, n_embd)
    MatrixView wo;                 // (n_embd, n_head * head_dim)
    std::vector<float> ffn_norm;   // (n_embd)
    MatrixView w_gate;             // (n_ff, n_embd)
    MatrixView w_up;               // (n_ff, n_embd)
    MatrixView w_down;             // (n_embd, n_ff)
};

struct Weights {
    MatrixView tok_embd;             // (n_vocab, n_embd)
    std::vector<float> output_norm;  // (n_embd)
    MatrixView output;               // (n_vocab, n_embd); token_embd when tied
    std::vector<LayerWeights> layers;
};

}  // namespace lokal::model
