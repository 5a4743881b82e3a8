// OpenAI's Responses API: POST /v1/responses (whole or streamed as events), and for stored
// responses GET /v1/responses/{id}, DELETE /v1/responses/{id}, GET /v1/responses/{id}/input_items.
// Stored responses (store: true, the default) live in the model store's responses/ directory, so
// previous_response_id continues a conversation after a restart; the next turn's prompt starts
// with the previous one's tokens, so the prefix cache reuses their KV. The file_search tool
// searches vector stores (file_search.h) before generating and grounds the question in the chunks.
#include "rag/rag_prompt.h"
#include "server/answer_driver.h"
#include "server/api_util.h"
#include "server/file_search.h"
#include "server/http_error.h"
#include "server/request_options.h"
#include "server/response_store.h"
#include "server/responses_request.h"
#include "server/responses_wire.h"

namespace lokal::server {

namespace {

using json = nlohmann::ordered_json;

std::shared_ptr<ResponseStore> response_store() {
    static auto store = std::make_shared<ResponseStore>(ResponseStore::default_dir());
    return store;
}

bool includes(const json& body, const char* what) {
    const json* inc = field(body, "include");
    if (!inc || !inc->is_array()) return false;
    for (const json& x : *inc) {
        if (x == what) return true;
    }
    return false;
}

// The file_search tools' search, run before generating: the question grounded in the chunks
// found (rag_prompt.h) and what the response shows of the search. The tools are taken out of
// `model_body`, which the rest of the request is read from.
std::optional<FileSearchOutput> run_file_search(ServerState& state, const json& body,
                                                json& model_body, std::string& grounded) {
    if (!model_body.contains("tools")) return std::nullopt;
    const auto tools = take_file_search_tools(model_body["tools"], false);
    if (model_body["tools"].empty()) model_body.erase("tools");
    if (tools.empty()) return std::nullopt;
    FileSearchOutput fs;
    fs.id = random_id("fs_");
    const std::string question = last_user_text(field(body, "input"));
    fs.queries = {question};
    fs.include_results = includes(body, "file_search_call.results");
    std::vector<rag::Hit> hits;
    for (const FileSearchTool& t : tools) {
        StoreHits h = search_vector_stores(state, t.vector_store_ids, question,
                                           t.max_num_results, "tools.vector_store_ids");
        for (size_t i = 0; i < h.hits.size(); ++i) {
            hits.push_back(std::move(h.hits[i]));
            fs.results.push_back(std::move(h.results[i]));
        }
    }
    grounded = rag::answer_prompt(question, hits);
    return fs;
}

void create(ServerState& state, const httplib::Request& req, httplib::Response& res) {
    const json body = parse_body(req);
    const std::string model = required_string(body, "model");
    auto lease = std::shared_ptr<ModelManager::Lease>(state.models.acquire(model, std::nullopt));
    LoadedModel& m = **lease;
    if (!m.scheduler) throw HttpError(400, "'" + model + "' is an embedding model", "model");
    json model_body = body;
    std::string grounded;
    std::optional<FileSearchOutput> file_search = run_file_search(state, body, model_body, grounded);
    ResponsesRequest r = responses_request(m, model_body, *response_store(), grounded);
    if (body.contains("tools")) r.echo["tools"] = body["tools"];
    auto stream = start_completion(m, r.g.prompt, r.g.params, -1, r.g.hooks(m));
    ResponsesEnvelope envelope{
        random_id("resp_"),       unix_now(), model, std::move(r.echo), std::move(r.conversation),
        std::move(r.input_items), r.store};
    auto codec = std::make_shared<ResponsesCodec>(std::move(envelope), response_store());
    if (file_search) codec->set_file_search(std::move(*file_search));
    drive_answer(state, req, res, model, stream, lease, r.g.make_output(), codec,
                 optional_bool(body, "stream", false));
}

json stored_or_404(const std::string& id) {
    auto record = response_store()->load(id);
    if (!record) throw HttpError(404, "response '" + id + "' not found", "response_id");
    return *record;
}

void send_json(httplib::Response& res, const json& j) {
    res.set_content(j.dump(-1, ' ', false, kReplaceInvalidUtf8), "application/json");
}

}  // namespace

void register_responses_routes(httplib::Server& http, ServerState& state) {
    http.Post("/v1/responses",
              guarded(state, [&state](const auto& req, auto& res) { create(state, req, res); }));
    http.Get(R"(/v1/responses/([^/]+))", guarded(state, [](const auto& req, auto& res) {
                 send_json(res, stored_or_404(req.matches[1])["response"]);
             }));
    http.Get(R"(/v1/responses/([^/]+)/input_items)", guarded(state, [](const auto& req, auto& res) {
                 const json items = stored_or_404(req.matches[1])["input_items"];
                 send_json(res, {{"object", "list"},
                                 {"data", items},
                                 {"first_id", items.empty() ? json(nullptr) : items.front()["id"]},
                                 {"last_id", items.empty() ? json(nullptr) : items.back()["id"]},
                                 {"has_more", false}});
             }));
    http.Delete(R"(/v1/responses/([^/]+))", guarded(state, [](const auto& req, auto& res) {
                    const std::string id = req.matches[1];
                    if (!response_store()->remove(id)) {
                        throw HttpError(404, "response '" + id + "' not found", "response_id");
                    }
                    send_json(res, {{"id", id}, {"object", "response"}, {"deleted", true}});
                }));
}

}  // namespace lokal::server
