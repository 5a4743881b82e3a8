// `lokal embed`: sentence embeddings as JSON, {"model", "n_embd", "embeddings": [[...], ...]},
// the shape Ollama's /api/embed returns.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "cli/options.h"
#include "model/context.h"
#include "model/encoder.h"
#include "store/resolve.h"

namespace lokal::cli {

int embed_command(const EmbedOptions& o) {
    if (o.texts.empty()) throw Error("give at least one text to embed");
    auto model = model::Model::load(store::resolve_model(o.model));
    const bool encoder_only = model->config().encoder_only;
    std::unique_ptr<model::Encoder> encoder;
    std::unique_ptr<model::Context> ctx;
    model::Pooling pooling = o.pooling == "mean"   ? model::Pooling::Mean
                             : o.pooling == "last" ? model::Pooling::Last
                                                   : model::Pooling::Cls;
    if (o.pooling != "mean" && o.pooling != "last" && o.pooling != "cls" && !o.pooling.empty()) {
        throw Error("--pooling must be mean, last or cls");
    }
    if (encoder_only) {
        encoder = std::make_unique<model::Encoder>(*model, o.n_threads);
    } else {
        model::ContextParams cp;
        cp.n_threads = o.n_threads;
        ctx = std::make_unique<model::Context>(*model, cp);
        if (o.pooling.empty()) pooling = model::Pooling::Mean;
    }
    nlohmann::json out;
    out["model"] = model->config().name;
    out["n_embd"] = model->config().n_embd;
    out["embeddings"] = nlohmann::json::array();
    for (const std::string& text : o.texts) {
        const std::vector<int32_t> tokens = model->tokenizer().encode(text, true, false);
        out["embeddings"].push_back(encoder ? encoder->embed(tokens) : ctx->embed(tokens, pooling));
    }
    std::printf("%s\n", out.dump().c_str());
    return 0;
}

}  // namespace lokal::cli
