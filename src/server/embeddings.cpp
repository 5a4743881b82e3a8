#include "server/embeddings.h"

#include <httplib.h>
#include <algorithm>
#include <climits>
#include <cmath>

#include "server/http_error.h"
#include "server/model_manager.h"

namespace lokal::server {

namespace {

using json = nlohmann::ordered_json;

std::vector<int32_t> token_list(const json& v, const std::string& name) {
    std::vector<int32_t> out;
    for (const auto& t : v) {
        if (!t.is_number_integer() || t.get<int64_t>() < 0 || t.get<int64_t>() > INT32_MAX) {
            throw HttpError(400, "'" + name + "' must hold token ids", name);
        }
        out.push_back(t.get<int32_t>());
    }
    return out;
}

// Keeps the first n components and scales them back to unit length.
void shorten(std::vector<float>& v, int n) {
    v.resize(std::min<size_t>(v.size(), (size_t)n));
    double sum = 0;
    for (float x : v) sum += (double)x * x;
    if (sum <= 0) return;
    const float inv = (float)(1.0 / std::sqrt(sum));
    for (float& x : v) x *= inv;
}

}  // namespace

std::vector<EmbedInput> parse_embed_inputs(const json* in, const char* name) {
    const std::string field_name = name;
    if (!in) throw HttpError(400, "'" + field_name + "' is required", name);
    std::vector<EmbedInput> out;
    const std::string bad = "'" + field_name +
                            "' must be a string, a list of strings, or token ids (a list of "
                            "integers or of such lists)";
    if (in->is_string()) {
        out.push_back({in->get<std::string>(), std::nullopt});
    } else if (in->is_array() && !in->empty() && (*in)[0].is_number_integer()) {
        out.push_back({"", token_list(*in, field_name)});
    } else if (in->is_array()) {
        for (const auto& x : *in) {
            if (x.is_string()) {
                out.push_back({x.get<std::string>(), std::nullopt});
            } else if (x.is_array()) {
                out.push_back({"", token_list(x, field_name)});
            } else {
                throw HttpError(400, bad, name);
            }
        }
    } else {
        throw HttpError(400, bad, name);
    }
    if (out.empty()) throw HttpError(400, "'" + field_name + "' is empty", name);
    return out;
}

int embed_dimensions(const json& body) {
    const json* d = body.is_object() && body.contains("dimensions") ? &body["dimensions"] : nullptr;
    if (!d || d->is_null()) return 0;
    if (!d->is_number_integer() || d->get<int64_t>() < 1 || d->get<int64_t>() > 1 << 20) {
        throw HttpError(400, "'dimensions' must be a positive integer", "dimensions");
    }
    return d->get<int>();
}

std::vector<std::vector<float>> embed_texts(ServerState& state, const httplib::Request& req,
                                            const std::string& model,
                                            const std::vector<EmbedInput>& inputs,
                                            const EmbedOptions& options, int* n_tokens) {
    auto lease = state.models.acquire(model, options.keep_alive);
    LoadedModel& m = **lease;
    const int n_embd = m.model->config().n_embd;
    if (options.dimensions > n_embd) {
        throw HttpError(400,
                        "'dimensions' is " + std::to_string(options.dimensions) + " but '" + model +
                            "' makes vectors of " + std::to_string(n_embd),
                        "dimensions");
    }
    const int n_vocab = m.model->tokenizer().n_vocab();
    std::vector<std::vector<float>> out;
    int total = 0;
    const int limit = m.model->config().encoder_only
                          ? m.model->config().n_ctx_train
                          : std::min(m.model->config().n_ctx_train, 8192);
    for (const EmbedInput& in : inputs) {
        std::vector<int32_t> tokens =
            in.tokens ? *in.tokens : m.model->tokenizer().encode(in.text, true, false);
        for (int32_t t : tokens) {
            if (t >= n_vocab) {
                throw HttpError(400, "token id " + std::to_string(t) + " is not in the vocabulary",
                                "input");
            }
        }
        if ((int)tokens.size() > limit) {
            if (!options.truncate) {
                throw HttpError(400, "the input is " + std::to_string(tokens.size()) +
                                         " tokens but the model's context holds " +
                                         std::to_string(limit));
            }
            tokens.resize(limit);
        }
        if (tokens.empty()) throw HttpError(400, "cannot embed an empty input", "input");
        total += (int)tokens.size();
        out.push_back(m.embed(tokens));
        if (options.dimensions > 0) shorten(out.back(), options.dimensions);
    }
    if (n_tokens) *n_tokens = total;
    state.metrics.count_tokens(total, 0);
    state.note(req, {model, total, 0});
    return out;
}

}  // namespace lokal::server
