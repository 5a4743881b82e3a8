#include "server/embeddings.h"

#include <httplib.h>
#include <algorithm>

#include "server/http_error.h"
#include "server/model_manager.h"

namespace lokal::server {

std::vector<std::vector<float>> embed_texts(ServerState& state, const httplib::Request& req,
                                            const std::string& model,
                                            const std::vector<std::string>& texts,
                                            std::optional<double> keep_alive, bool truncate,
                                            int* n_tokens) {
    auto lease = state.models.acquire(model, keep_alive);
    LoadedModel& m = **lease;
    std::vector<std::vector<float>> out;
    int total = 0;
    const int limit = m.model->config().encoder_only
                          ? m.model->config().n_ctx_train
                          : std::min(m.model->config().n_ctx_train, 8192);
    for (const std::string& t : texts) {
        std::vector<int32_t> tokens = m.model->tokenizer().encode(t, true, false);
        if ((int)tokens.size() > limit) {
            if (!truncate) {
                throw HttpError(400, "the input is " + std::to_string(tokens.size()) +
                                         " tokens but the model's context holds " +
                                         std::to_string(limit));
            }
            tokens.resize(limit);
        }
        if (tokens.empty()) throw HttpError(400, "cannot embed an empty input", "input");
        total += (int)tokens.size();
        out.push_back(m.embed(tokens));
    }
    if (n_tokens) *n_tokens = total;
    state.metrics.count_tokens(total, 0);
    state.note(req, {model, total, 0});
    return out;
}

}  // namespace lokal::server
