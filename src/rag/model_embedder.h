// The RAG Embedder on a lokal model: an encoder (BERT family: MiniLM, nomic, ...) through
// model::Encoder, or a decoder's mean-pooled hidden states through model::Context. Texts longer
// than the model's context are cut to it.
#pragma once

#include <memory>
#include <string>

#include "rag/embedder.h"

namespace lokal::model {
class Model;
class Encoder;
class Context;
}  // namespace lokal::model

namespace lokal::rag {

class ModelEmbedder : public Embedder {
  public:
    // `model`: a store reference or a .gguf path. Throws lokal::Error when it cannot be loaded.
    ModelEmbedder(const std::string& model, int n_threads);
    ~ModelEmbedder() override;

    std::vector<std::vector<float>> embed(const std::vector<std::string>& texts) override;
    int dim() const;

  private:
    std::unique_ptr<model::Model> model_;
    std::unique_ptr<model::Encoder> encoder_;
    std::unique_ptr<model::Context> context_;
    int max_tokens_ = 0;
};

}  // namespace lokal::rag
