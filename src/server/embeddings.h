// Embeddings for both APIs (Ollama's /api/embed and /api/embeddings, OpenAI's /v1/embeddings):
// each input (a text, or token ids) checked against the model's context and embedded.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "server/server.h"

namespace httplib {
struct Request;
}

namespace lokal::server {

// One thing to embed: a text, or token ids as they are (OpenAI's token-array input).
struct EmbedInput {
    std::string text;
    std::optional<std::vector<int32_t>> tokens;
};

// `input` as both APIs take it: a string, a list of strings, a list of token ids, or a list of
// such lists. HttpError 400 naming `name` otherwise, or when it is empty.
std::vector<EmbedInput> parse_embed_inputs(const nlohmann::ordered_json* input, const char* name);

struct EmbedOptions {
    std::optional<double> keep_alive;
    bool truncate = true;  // cut inputs longer than the context; false: refuse them (400)
    int dimensions = 0;    // > 0: keep the first n components and renormalise (Matryoshka)
};

// One embedding per input (the model's pooled, normalised vector); n_tokens (optional) gets the
// total token count.
std::vector<std::vector<float>> embed_texts(ServerState& state, const httplib::Request& req,
                                            const std::string& model,
                                            const std::vector<EmbedInput>& inputs,
                                            const EmbedOptions& options, int* n_tokens);

// `dimensions` of a request (absent: 0); 400 unless a positive integer.
int embed_dimensions(const nlohmann::ordered_json& body);

}  // namespace lokal::server
