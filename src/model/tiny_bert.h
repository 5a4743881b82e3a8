// Random-weight BERT encoders (64 wide, 2 layers) with a real vocabulary, written with our own
// GGUF writer: the embedding and reranker tests make their models with it (the unit tests, and
// the API tests through tests/tools/make_tiny_bert).
#pragma once

#include <string>

namespace lokal::model {

struct TinyBertOptions {
    int pooling = 1;        // GGUF pooling_type: 1 mean, 2 CLS, 4 rank (a reranker)
    bool nomic = false;     // nomic-bert: rotary positions, fused q/k/v, SwiGLU
    bool rank_head = true;  // with pooling 4: write the classifier head (cls.*)
};

// Copies the tokenizer.* metadata of the GGUF at vocab_path (a BERT/WordPiece vocabulary).
void write_tiny_bert_gguf(const std::string& path, const std::string& vocab_path,
                          const TinyBertOptions& options);

}  // namespace lokal::model
