// Weights of a decoder-only transformer. Matrices stay in their stored (mmap'd, possibly
// quantized) form; small vectors (norms, biases) are converted to float at load.
// Shapes are (rows, cols), y = W·x.
#pragma once

#include <vector>

#include "kernels/cpu/matmul.h"

namespace lokal::model {

using kernels::MatrixView;

// Optional members are empty vectors / matrices with rows == 0 when the architecture lacks them.
struct LayerWeights {
    std::vector<float> attn_norm;   // (n_embd)
    MatrixView wq;                  // (n_head * head_dim, n_embd)
    MatrixView wk;                  // (n_head_kv * head_dim, n_embd)
    MatrixView wv;                  // (n_head_kv * head_dim, n_embd)
    MatrixView wqkv;                // (q + 2 * kv rows, n_embd): fused q, k, v (phi3); else empty
    std::vector<float> bq, bk, bv;  // q/k/v biases (qwen2), optional
    std::vector<float> q_norm, k_norm;  // (head_dim) per-head RMSNorm (qwen3, gemma3)
    MatrixView wo;                      // (n_embd, n_head * head_dim)
    std::vector<float> attn_post_norm;  // (n_embd) gemma2/3, optional
    std::vector<float> ffn_norm;        // (n_embd)
    MatrixView w_gate;                  // (n_ff, n_embd); empty when fused into w_up
    MatrixView w_up;                    // (n_ff, n_embd), or (2 * n_ff, n_embd) gate+up
    MatrixView w_down;                  // (n_embd, n_ff)
    std::vector<float> ffn_post_norm;   // (n_embd) gemma2/3, optional

    bool fused_qkv() const { return wqkv.rows > 0; }
    bool fused_gate_up() const { return w_gate.rows == 0; }
};

// BERT-style encoder (post-norm LayerNorm blocks with biases, absolute positions).
struct EncoderLayerWeights {
    MatrixView wq, wk, wv, wo;          // (n_embd, n_embd)
    MatrixView wqkv;                    // (3 * n_embd, n_embd): fused q/k/v (nomic-bert), or empty
    std::vector<float> bq, bk, bv, bo;  // (n_embd), each optional
    std::vector<float> attn_norm, attn_norm_b;  // (n_embd) LayerNorm after attention + residual
    MatrixView w_gate;                          // (n_ff, n_embd): SwiGLU when present, or empty
    MatrixView w_up;                            // (n_ff, n_embd)
    std::vector<float> b_up;                    // (n_ff), optional
    MatrixView w_down;                          // (n_embd, n_ff)
    std::vector<float> b_down;                  // (n_embd), optional
    std::vector<float> out_norm, out_norm_b;    // (n_embd) LayerNorm after FFN + residual
};

struct EncoderWeights {
    MatrixView pos_embd;                      // (n_ctx_train, n_embd); empty with rotary positions
    std::vector<float> type0;                 // (n_embd) token type 0 embedding, or empty
    std::vector<float> tok_norm, tok_norm_b;  // (n_embd) LayerNorm of the input embeddings
    std::vector<EncoderLayerWeights> layers;
    // Reranker head (Pooling::Rank): score = cls_out * tanh(cls * h_CLS + cls_b) + cls_out_b;
    // cls is absent in heads that go straight to the output.
    MatrixView cls;                // (n_embd, n_embd), optional
    std::vector<float> cls_b;      // (n_embd) or empty
    MatrixView cls_out;            // (n_cls_out, n_embd)
    std::vector<float> cls_out_b;  // (n_cls_out) or empty
};

struct Weights {
    MatrixView tok_embd;             // (n_vocab, n_embd)
    std::vector<float> output_norm;  // (n_embd)
    MatrixView output;               // (n_vocab, n_embd); token_embd when tied
    std::vector<LayerWeights> layers;
    EncoderWeights encoder;  // encoder-only models (bert)
};

}  // namespace lokal::model
