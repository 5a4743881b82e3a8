// Sentence embeddings from encoder-only models (BERT family): every token attends to every
// other, the final hidden states are pooled (mean / CLS / last, as the GGUF states) and
// L2-normalised.
#pragma once

#include <span>
#include <vector>

#include "base/thread_pool.h"
#include "kernels/cpu/matmul.h"
#include "model/model.h"

namespace lokal::model {

class Encoder {
  public:
    // Throws lokal::Error when the model is not an encoder.
    Encoder(const Model& model, int n_threads = 0);

    // The pooled, L2-normalised embedding (n_embd floats) of one token sequence. For a reranker
    // (Pooling::Rank) the classifier's raw scores instead (one per output label; the first is
    // the relevance of the pair encoded by Tokenizer::encode_pair).
    std::vector<float> embed(std::span<const int32_t> tokens);

    // The final hidden states, n_tokens x n_embd.
    std::vector<float> hidden_states(std::span<const int32_t> tokens);
    // The reranker head applied to the CLS (first token's) hidden state.
    std::vector<float> rank_scores(const float* h_cls);

  private:
    const Model& model_;
    ThreadPool pool_;
    kernels::MatmulScratch scratch_;
};

}  // namespace lokal::model
