#include "server/server_embedder.h"

#include <algorithm>

namespace lokal::server {

std::vector<std::vector<float>> ServerEmbedder::embed(const std::vector<std::string>& texts) {
    auto lease = models_.acquire(model_, std::nullopt);
    LoadedModel& m = **lease;
    const auto& cfg = m.model->config();
    const int limit = cfg.encoder_only ? cfg.n_ctx_train : std::min(cfg.n_ctx_train, 8192);
    std::vector<std::vector<float>> out;
    out.reserve(texts.size());
    for (const std::string& text : texts) {
        std::vector<int32_t> tokens = m.model->tokenizer().encode(text, true, false);
        if ((int)tokens.size() > limit) tokens.resize((size_t)limit);
        if (tokens.empty()) {
            out.emplace_back((size_t)cfg.n_embd, 0.0f);
            continue;
        }
        out.push_back(m.embed(tokens));
    }
    return out;
}

}  // namespace lokal::server
