// Anthropic's Messages API: POST /v1/messages (streamed as server-sent events or whole) and
// /v1/messages/count_tokens, so clients built on Anthropic's SDK (agents, Claude Code-style
// tools) run on a local model. Errors come in Anthropic's shape (api_util.cpp's send_error).
#include "server/anthropic_request.h"
#include "server/anthropic_wire.h"
#include "server/api_util.h"
#include "server/http_error.h"
#include "server/prompt.h"
#include "server/request_options.h"

namespace lokal::server {

namespace {

using json = nlohmann::ordered_json;

void messages(ServerState& state, const httplib::Request& req, httplib::Response& res) {
    const json body = parse_body(req);
    const std::string model = required_string(body, "model");
    auto lease = std::shared_ptr<ModelManager::Lease>(state.models.acquire(model, std::nullopt));
    LoadedModel& m = **lease;
    if (!m.scheduler) throw HttpError(400, "'" + model + "' is an embedding model", "model");
    AnthropicRequest r = anthropic_request(m, body);
    auto stream = start_completion(m, r.g.prompt, r.g.params, -1, r.g.hooks(m));
    AnthropicEnvelope envelope{random_id("msg_"), model, std::move(r.stop_sequences)};
    auto codec = std::make_shared<AnthropicCodec>(std::move(envelope), stream->prompt_tokens());
    drive_answer(state, req, res, model, stream, lease, r.g.make_output(), codec,
                 optional_bool(body, "stream", false));
}

void count_tokens(ServerState& state, const httplib::Request& req, httplib::Response& res) {
    const json body = parse_body(req);
    const std::string model = required_string(body, "model");
    auto lease = state.models.acquire(model, std::nullopt);
    const LoadedModel& m = **lease;
    const json tools = anthropic_tools(body);
    const bool has_tools = tools.is_array() && !tools.empty();
    const ChatPrompt p = chat_prompt(m, anthropic_messages(body), has_tools ? &tools : nullptr);
    const size_t n = tokenize_prompt(m, p.text).size();
    res.set_content(json{{"input_tokens", n}}.dump(), "application/json");
}

}  // namespace

void register_anthropic_routes(httplib::Server& http, ServerState& state) {
    http.Post("/v1/messages",
              guarded(state, [&state](const auto& req, auto& res) { messages(state, req, res); }));
    http.Post("/v1/messages/count_tokens", guarded(state, [&state](const auto& req, auto& res) {
                  count_tokens(state, req, res);
              }));
}

}  // namespace lokal::server
