// Writes a random-weight BERT GGUF for the black-box tests:
//   make_tiny_bert OUT.gguf VOCAB.gguf POOLING   (POOLING 1 mean, 2 CLS, 4 reranker)
#include <cstdio>
#include <cstdlib>
#include <exception>

#include "model/tiny_bert.h"

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: make_tiny_bert OUT.gguf VOCAB.gguf POOLING\n");
        return 2;
    }
    try {
        lokal::model::write_tiny_bert_gguf(argv[1], argv[2], {std::atoi(argv[3]), false, true});
    } catch (const std::exception& e) {
        std::fprintf(stderr, "make_tiny_bert: %s\n", e.what());
        return 1;
    }
    return 0;
}
