// What turns chunk texts into vectors for the RAG index: a model (model_embedder.h) or, in tests,
// anything else. Vectors are L2-normalised, so a dot product is their cosine.
#pragma once

#include <string>
#include <vector>

namespace lokal::rag {

class Embedder {
  public:
    virtual ~Embedder() = default;
    // One vector per text, all of the same size.
    virtual std::vector<std::vector<float>> embed(const std::vector<std::string>& texts) = 0;
};

}  // namespace lokal::rag
