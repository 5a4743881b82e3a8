#include "rag/model_reranker.h"

#include <algorithm>
#include <numeric>

#include "base/error.h"
#include "model/encoder.h"
#include "model/model.h"
#include "store/resolve.h"

namespace lokal::rag {

ModelReranker::ModelReranker(const std::string& model, int n_threads)
    : model_(model::Model::load(store::resolve_model(model))) {
    const auto& cfg = model_->config();
    if (!cfg.encoder_only || cfg.pooling != model::Pooling::Rank) {
        throw Error("'" + model +
                        "' is not a reranker: it has no classifier head (GGUF pooling type 4); "
                        "use a reranker model such as bge-reranker",
                    ErrorKind::Unsupported);
    }
    encoder_ = std::make_unique<model::Encoder>(*model_, n_threads);
    max_tokens_ = cfg.n_ctx_train > 0 ? cfg.n_ctx_train : 512;
}

ModelReranker::~ModelReranker() = default;

std::vector<float> ModelReranker::score(const std::string& query,
                                        const std::vector<std::string>& texts) {
    std::vector<float> scores;
    scores.reserve(texts.size());
    for (const std::string& text : texts) {
        std::string_view kept = text;
        std::vector<int32_t> pair = model_->tokenizer().encode_pair(query, kept);
        // Cut the text (never the query) in proportion until the pair fits; a query too long on
        // its own leaves an empty text and a pair that is still cut to fit.
        while ((int)pair.size() > max_tokens_ && !kept.empty()) {
            const size_t keep = kept.size() * (size_t)max_tokens_ / pair.size() * 9 / 10;
            kept = kept.substr(0, std::min(keep, kept.size() - 1));
            pair = model_->tokenizer().encode_pair(query, kept);
        }
        if ((int)pair.size() > max_tokens_) pair.resize((size_t)max_tokens_);
        scores.push_back(encoder_->embed(pair).at(0));
    }
    return scores;
}

std::vector<Hit> ModelReranker::rerank(const std::string& query, std::vector<Hit> candidates,
                                       int k) {
    std::vector<std::string> texts;
    texts.reserve(candidates.size());
    for (const Hit& h : candidates) texts.push_back(h.chunk.text);
    const std::vector<float> scores = score(query, texts);
    std::vector<size_t> order(candidates.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return scores[a] > scores[b]; });
    std::vector<Hit> out;
    for (size_t i = 0; i < order.size() && (int)out.size() < k; ++i) {
        Hit h = std::move(candidates[order[i]]);
        h.score = scores[order[i]];
        out.push_back(std::move(h));
    }
    return out;
}

}  // namespace lokal::rag
