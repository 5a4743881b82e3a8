// OpenAI's Responses API: POST /v1/responses (whole or streamed as events), and for stored
// responses GET /v1/responses/{id}, DELETE /v1/responses/{id}, GET /v1/responses/{id}/input_items.
// Stored responses (store: true, the default) live in the model store's responses/ directory, so
// previous_response_id continues a conversation after a restart; the next turn's prompt starts
// with the previous one's tokens, so the prefix cache reuses their KV.
#include "server/answer_driver.h"
#include "server/api_util.h"
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

void create(ServerState& state, const httplib::Request& req, httplib::Response& res) {
    const json body = parse_body(req);
    const std::string model = required_string(body, "model");
    auto lease = std::shared_ptr<ModelManager::Lease>(state.models.acquire(model, std::nullopt));
    LoadedModel& m = **lease;
    if (!m.scheduler) throw HttpError(400, "'" + model + "' is an embedding model", "model");
    ResponsesRequest r = responses_request(m, body, *response_store());
    auto stream = start_completion(m, r.g.prompt, r.g.params, -1, r.g.hooks(m));
    ResponsesEnvelope envelope{
        random_id("resp_"),       unix_now(), model, std::move(r.echo), std::move(r.conversation),
        std::move(r.input_items), r.store};
    auto codec = std::make_shared<ResponsesCodec>(std::move(envelope), response_store());
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
