// `lokal embed`: sentence embeddings as JSON, {"model", "n_embd", "embeddings": [[...], ...]},
// the shape Ollama's /api/embed returns.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "cli/options.h"
#include "model/encoder.h"

namespace lokal::cli {

int embed_command(const EmbedOptions& o) {
    if (o.texts.empty()) throw Error("give at least one text to embed");
    auto model = model::Model::load(o.model);
    model::Encoder encoder(*model, o.n_threads);
    nlohmann::json out;
    out["model"] = model->config().name;
    out["n_embd"] = model->config().n_embd;
    out["embeddings"] = nlohmann::json::array();
    for (const std::string& text : o.texts) {
        const std::vector<int32_t> tokens = model->tokenizer().encode(text, true, false);
        out["embeddings"].push_back(encoder.embed(tokens));
    }
    std::printf("%s\n", out.dump().c_str());
    return 0;
}

}  // namespace lokal::cli
