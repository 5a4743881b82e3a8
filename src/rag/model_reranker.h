// The optional second stage of retrieval: a cross-encoder reranker (a GGUF with a classifier
// head, pooling type 4, such as bge-reranker) reads the query and each retrieved chunk together
// and scores how well the chunk answers it; `lokal rag search|ask --rerank MODEL` reorders the
// hybrid candidates by that score, as the server's /v1/rerank would.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "rag/search.h"

namespace lokal::model {
class Model;
class Encoder;
}  // namespace lokal::model

namespace lokal::rag {

class ModelReranker {
  public:
    // `model`: a store reference or a .gguf path. Throws lokal::Error when it cannot be loaded
    // or is not a reranker.
    ModelReranker(const std::string& model, int n_threads);
    ~ModelReranker();

    // One relevance score per text (higher is better). A text too long to pair with the query
    // in the model's context is cut at its end.
    std::vector<float> score(const std::string& query, const std::vector<std::string>& texts);

    // The k best of `candidates` by score, best first; each hit's score becomes its relevance.
    std::vector<Hit> rerank(const std::string& query, std::vector<Hit> candidates, int k);

  private:
    std::unique_ptr<model::Model> model_;
    std::unique_ptr<model::Encoder> encoder_;
    int max_tokens_ = 0;
};

}  // namespace lokal::rag
