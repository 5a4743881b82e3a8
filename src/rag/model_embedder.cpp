#include "rag/model_embedder.h"

#include <algorithm>
#include <span>

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
    std::vector<std::vector<int32_t>> tokens;
    tokens.reserve(texts.size());
    for (const std::string& text : texts) {
        tokens.push_back(model_->tokenizer().encode(text, true, false));
        if ((int)tokens.back().size() > max_tokens_) tokens.back().resize(max_tokens_);
    }
    std::vector<std::vector<float>> out(texts.size());
    if (!encoder_) {
        for (size_t i = 0; i < texts.size(); ++i) {
            out[i] = tokens[i].empty() ? std::vector<float>((size_t)dim(), 0.0f)
                                       : context_->embed(tokens[i], model::Pooling::Mean);
        }
        return out;
    }
    // Encoder passes of as many texts as fit in its batch rows.
    std::vector<std::span<const int32_t>> batch;
    std::vector<size_t> which;
    int rows = 0;
    auto flush = [&] {
        if (batch.empty()) return;
        std::vector<std::vector<float>> v = encoder_->embed_batch(batch);
        for (size_t j = 0; j < which.size(); ++j) out[which[j]] = std::move(v[j]);
        batch.clear();
        which.clear();
        rows = 0;
    };
    for (size_t i = 0; i < texts.size(); ++i) {
        const int n = (int)tokens[i].size();
        if (n == 0) {
            out[i].assign((size_t)dim(), 0.0f);
            continue;
        }
        if (rows + n > encoder_->max_batch_rows()) flush();
        batch.emplace_back(tokens[i]);
        which.push_back(i);
        rows += n;
    }
    flush();
    return out;
}

}  // namespace lokal::rag
