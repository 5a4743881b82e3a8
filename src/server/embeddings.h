// Embeddings for both APIs (Ollama's /api/embed and /api/embeddings, OpenAI's /v1/embeddings):
// each text tokenized, checked against the model's context and embedded.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "server/server.h"

namespace httplib {
struct Request;
}

namespace lokal::server {

// One embedding per text (the model's pooled, normalised vector). Texts longer than the
// context are cut when truncate, else refused (HttpError 400); n_tokens (optional) gets the
// total token count.
std::vector<std::vector<float>> embed_texts(ServerState& state, const httplib::Request& req,
                                            const std::string& model,
                                            const std::vector<std::string>& texts,
                                            std::optional<double> keep_alive, bool truncate,
                                            int* n_tokens);

}  // namespace lokal::server
