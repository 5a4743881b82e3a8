// Writes a random-weight llama GGUF with a real vocabulary for the black-box tests:
//   make_tiny_llama OUT.gguf VOCAB.gguf
#include <cstdio>
#include <exception>

#include "model/tiny_llama.h"

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: make_tiny_llama OUT.gguf VOCAB.gguf\n");
        return 2;
    }
    try {
        lokal::model::write_tiny_llama_gguf(argv[1], argv[2]);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "make_tiny_llama: %s\n", e.what());
        return 1;
    }
    return 0;
}
