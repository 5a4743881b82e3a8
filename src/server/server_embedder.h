// The RAG Embedder (rag/embedder.h) on a model the server's ModelManager holds, so vector stores
// share the loaded model with /v1/embeddings. Each text is cut to the model's context.
#pragma once

#include <string>
#include <vector>

#include "rag/embedder.h"
#include "server/model_manager.h"

namespace lokal::server {

class ServerEmbedder : public rag::Embedder {
  public:
    ServerEmbedder(ModelManager& models, std::string model)
        : models_(models), model_(std::move(model)) {}
    // Throws ModelNotFound for an unknown model.
    std::vector<std::vector<float>> embed(const std::vector<std::string>& texts) override;

  private:
    ModelManager& models_;
    std::string model_;
};

}  // namespace lokal::server
