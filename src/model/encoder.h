// Sentence embeddings from encoder-only models (BERT family): every token attends to every
// other, the final hidden states are pooled (mean / CLS / last, as the GGUF states) and
// L2-normalised. The forward pass runs on a backend's op table, like the decoder's.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "backends/backend.h"
#include "model/model.h"

namespace lokal::model {

class Encoder {
  public:
    // Throws lokal::Error when the model is not an encoder.
    Encoder(const Model& model, int n_threads = 0);
    ~Encoder();

    // The pooled, L2-normalised embedding (n_embd floats) of one token sequence. For a reranker
    // (Pooling::Rank) the classifier's raw scores instead (one per output label; the first is
    // the relevance of the pair encoded by Tokenizer::encode_pair).
    std::vector<float> embed(std::span<const int32_t> tokens);

    // embed() of each sequence, in one forward pass: the sequences' rows are stacked so every
    // matmul runs over all of them, and each attends only within itself. Pooling::Rank models
    // and device backends (whose attention sees the whole batch) take them one by one. Sequences
    // over max_batch_rows() in all are the caller's to split.
    std::vector<std::vector<float>> embed_batch(const std::vector<std::span<const int32_t>>& seqs);
    // The most rows (tokens of all sequences together) embed_batch takes in one pass.
    int max_batch_rows() const { return max_rows_; }

    // The final hidden states, n_tokens x n_embd.
    std::vector<float> hidden_states(std::span<const int32_t> tokens);

  private:
    using Cols = backends::Cols;

    // The final hidden states of the tokens, in x_: one sequence, or several stacked whose
    // lengths are `lengths` (in order; they sum to tokens.size()).
    void forward(std::span<const int32_t> tokens, std::span<const int> lengths = {});
    // Bidirectional attention within each of the stacked sequences, computed here in host
    // memory (the backend's attention_all_rows sees the whole batch as one sequence).
    void attention_per_sequence(int n);
    std::vector<float> pool(const float* x, int n) const;
    void embed_tokens(std::span<const int32_t> tokens);
    void attention_block(const EncoderLayerWeights& L, int n);
    void ffn_block(const EncoderLayerWeights& L, int n);
    // The reranker head on the CLS (first token's) hidden state.
    std::vector<float> rank_scores();

    const Model& model_;
    std::unique_ptr<backends::Backend> backend_;
    // One row per token: the hidden state x, a projection t, q|k|v, the attention output, the
    // FFN's up and gate rows, and (one row) the reranker's inner and output values.
    Cols x_, t_, qkv_, attn_, up_, gate_, cls_, scores_;
    std::vector<int32_t> positions_, seqs_;
    std::vector<int> lengths_;  // of the sequences in the current pass
    std::vector<float> host_qkv_, host_attn_;
    int rows_ = 0;      // rows the per-token buffers hold (they grow with the inputs)
    int max_rows_ = 0;  // the most rows of one pass
    // CPU backends: several sequences' attention can run here (attention_per_sequence).
    bool host_attention_ = false;
};

}  // namespace lokal::model
