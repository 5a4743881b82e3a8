#include "rag/model_embedder.h"

#include <algorithm>

#include "base/error.h"
#include "model/context.h"
#include "model/encoder.h"
#include "model/model.h"
#include "store/resolve.h"

namespace lokal::rag {

ModelEmbedder::ModelEmbedder(const std::string& model, int n_threads)
    : model_(model::Model::load(store::resolve_model(model))) {
    const auto& cfg = model_->config();
    if (cfg.encoder_only) {
        encoder_ = std::make_unique<model::Encoder>(*model_, n_threads);
        max_tokens_ = cfg.n_ctx_train > 0 ? cfg.n_ctx_train : 512;
    } else {
        model::ContextParams cp;
        cp.n_threads = n_threads;
        max_tokens_ = std::min(cfg.n_ctx_train > 0 ? cfg.n_ctx_train : 2048, 2048);
        cp.n_ctx = max_tokens_;
        context_ = std::make_unique<model::Context>(*model_, cp);
    }
}

ModelEmbedder::~ModelEmbedder() = default;

int ModelEmbedder::dim() const { return model_->config().n_embd; }

std::vector<std::vector<float>> ModelEmbedder::embed(const std::vector<std::string>& texts) {
    std::vector<std::vector<float>> out;
    out.reserve(texts.size());
    for (const std::string& text : texts) {
        std::vector<int32_t> tokens = model_->tokenizer().encode(text, true, false);
        if ((int)tokens.size() > max_tokens_) tokens.resize(max_tokens_);
        if (tokens.empty()) {
            out.emplace_back((size_t)dim(), 0.0f);
            continue;
        }
        out.push_back(encoder_ ? encoder_->embed(tokens)
                               : context_->embed(tokens, model::Pooling::Mean));
    }
    return out;
}

}  // namespace lokal::rag
