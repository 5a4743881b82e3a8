// POST /v1/rerank (aliases /rerank and /v1/reranking): a query and documents in, a relevance
// score per document out, best first, in the shape Jina, Cohere and llama-server use. Needs a
// reranker (a cross-encoder with a classifier head, GGUF pooling type 4): each (query, document)
// pair is encoded together and the head's first output is its score.
#include <algorithm>
#include <numeric>

#include "server/api_util.h"
#include "server/http_error.h"
#include "server/request_options.h"
#include "tokenizer/tokenizer.h"

namespace lokal::server {
namespace {

using json = nlohmann::ordered_json;

std::vector<std::string> documents_of(const json& body) {
    const json* docs = field(body, "documents");
    if (!docs || !docs->is_array()) {
        throw HttpError(400, "'documents' must be a list of strings", "documents");
    }
    std::vector<std::string> out;
    for (const json& d : *docs) {
        if (d.is_string()) {
            out.push_back(d.get<std::string>());
        } else if (d.is_object() && d.contains("text") && d["text"].is_string()) {
            out.push_back(d["text"].get<std::string>());
        } else {
            throw HttpError(400, "'documents' must be a list of strings (or {\"text\": ...})",
                            "documents");
        }
    }
    return out;
}

void rerank(ServerState& state, const httplib::Request& req, httplib::Response& res) {
    const json body = parse_body(req);
    const std::string model = required_string(body, "model");
    const std::string query = required_string(body, "query");
    const std::vector<std::string> docs = documents_of(body);
    size_t top_n = docs.size();
    if (const json* t = field(body, "top_n")) {
        if (!t->is_number_integer() || t->get<int64_t>() < 1) {
            throw HttpError(400, "'top_n' must be a positive integer", "top_n");
        }
        top_n = std::min(top_n, (size_t)t->get<int64_t>());
    }
    const bool return_documents = optional_bool(body, "return_documents", false);

    auto lease = state.models.acquire(model, std::nullopt);
    LoadedModel& m = **lease;
    if (m.model->config().pooling != model::Pooling::Rank) {
        throw HttpError(400,
                        "model '" + model +
                            "' is not a reranker: it has no classifier head (GGUF pooling "
                            "type 4); use a reranker model such as bge-reranker",
                        "model");
    }
    const int limit = m.model->config().n_ctx_train;
    std::vector<float> scores(docs.size());
    int total = 0;
    for (size_t i = 0; i < docs.size(); ++i) {
        const std::vector<int32_t> pair = m.model->tokenizer().encode_pair(query, docs[i]);
        if ((int)pair.size() > limit) {
            throw HttpError(
                400,
                "query and document " + std::to_string(i) + " are " + std::to_string(pair.size()) +
                    " tokens together but the model takes at most " + std::to_string(limit),
                "documents");
        }
        total += (int)pair.size();
        scores[i] = m.embed(pair).at(0);
    }
    std::vector<size_t> order(docs.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return scores[a] > scores[b]; });
    json results = json::array();
    for (size_t k = 0; k < top_n; ++k) {
        json r = {{"index", order[k]}, {"relevance_score", scores[order[k]]}};
        if (return_documents) r["document"] = {{"text", docs[order[k]]}};
        results.push_back(r);
    }
    state.metrics.count_tokens(total, 0);
    state.note(req, {model, total, 0});
    const json j = {{"model", model},
                    {"object", "list"},
                    {"usage", {{"prompt_tokens", total}, {"total_tokens", total}}},
                    {"results", results}};
    res.set_content(j.dump(-1, ' ', false, kReplaceInvalidUtf8), "application/json");
}

}  // namespace

void register_rerank_routes(httplib::Server& http, ServerState& state) {
    for (const char* path : {"/v1/rerank", "/rerank", "/v1/reranking"}) {
        http.Post(path, guarded(state,
                                [&state](const auto& req, auto& res) { rerank(state, req, res); }));
    }
}

}  // namespace lokal::server
