// Ollama's API: /api/generate, /api/chat, /api/embed, /api/embeddings (the model-running part;
// the store and status endpoints are in admin_api.cpp). Same JSON shapes, defaults and NDJSON
// streaming as Ollama's docs/api.md.
#include <chrono>

#include "server/answer_driver.h"
#include "server/api_util.h"
#include "server/embeddings.h"
#include "server/generation_request.h"
#include "server/http_error.h"
#include "server/ollama_wire.h"
#include "server/prompt.h"
#include "store/resolve.h"
#include "tokenizer/tokenizer.h"

namespace lokal::server {
namespace {

using json = nlohmann::ordered_json;
using SteadyClock = std::chrono::steady_clock;

// An empty generate/chat request only loads (or, with keep_alive 0, unloads) the model.
bool load_only(ServerState& state, const json& body, const std::string& model,
               httplib::Response& res, bool chat) {
    const std::optional<double> keep = parse_keep_alive(body);
    json j = {{"model", model}, {"created_at", rfc3339_now()}, {"done", true}};
    if (chat) {
        j["message"] = {{"role", "assistant"}, {"content", ""}};
    } else {
        j["response"] = "";
    }
    if (keep && *keep == 0) {
        // Unloading a name the store does not have is a 404 (`lokal stop` says so), as in Ollama.
        try {
            store::resolve_model(model, state.models.params().allow_paths
                                            ? store::PathAccess::Allowed
                                            : store::PathAccess::StoreOnly);
        } catch (const Error& e) {
            if (e.kind() == ErrorKind::NotFound) throw ModelNotFound(e.what());
            throw;
        }
        state.models.unload(model);
        j["done_reason"] = "unload";
    } else {
        state.models.acquire(model, keep);
        j["done_reason"] = "load";
    }
    res.set_content(j.dump(-1, ' ', false, kReplaceInvalidUtf8), "application/json");
    return true;
}

void generate(ServerState& state, const httplib::Request& req, httplib::Response& res, bool chat) {
    const auto started = SteadyClock::now();
    const json body = parse_body(req);
    const std::string model = required_string(body, "model");
    if (chat) {
        const json* messages = field(body, "messages");
        if (!messages || (messages->is_array() && messages->empty())) {
            load_only(state, body, model, res, true);
            return;
        }
    } else {
        const json* prompt = field(body, "prompt");
        if (!prompt || (prompt->is_string() && prompt->get<std::string>().empty())) {
            load_only(state, body, model, res, false);
            return;
        }
    }
    const auto load_start = SteadyClock::now();
    std::shared_ptr<ModelManager::Lease> lease =
        state.models.acquire(model, parse_keep_alive(body));
    const double load_seconds =
        std::chrono::duration<double>(SteadyClock::now() - load_start).count();
    LoadedModel& m = **lease;

    GenerationRequest g = chat ? ollama_chat_request(m, body) : ollama_generate_request(m, body);
    auto stream = start_completion(m, g.prompt, g.params, -1, g.hooks(m));
    auto codec = std::make_shared<OllamaCodec>(model, chat, OllamaTimes{started, load_seconds});
    drive_answer(state, req, res, model, stream, lease, g.make_output(), codec,
                 optional_bool(body, "stream", true));
}

}  // namespace

void register_ollama_routes(httplib::Server& http, ServerState& state) {
    http.Post("/api/generate", guarded(state, [&state](const auto& req, auto& res) {
                  generate(state, req, res, false);
              }));
    http.Post("/api/chat", guarded(state, [&state](const auto& req, auto& res) {
                  generate(state, req, res, true);
              }));
    http.Post(
        "/api/embed", guarded(state, [&state](const auto& req, auto& res) {
            const auto started = SteadyClock::now();
            const json body = parse_body(req);
            const std::string model = required_string(body, "model");
            int n = 0;
            const EmbedOptions options{parse_keep_alive(body),
                                       optional_bool(body, "truncate", true),
                                       embed_dimensions(body)};
            auto e = embed_texts(state, req, model,
                                 parse_embed_inputs(field(body, "input"), "input"), options, &n);
            json j = {
                {"model", model},
                {"embeddings", e},
                {"total_duration",
                 nanoseconds(std::chrono::duration<double>(SteadyClock::now() - started).count())},
                {"load_duration", 0},
                {"prompt_eval_count", n}};
            res.set_content(j.dump(-1, ' ', false, kReplaceInvalidUtf8), "application/json");
        }));
    http.Post("/api/embeddings", guarded(state, [&state](const auto& req, auto& res) {
                  const json body = parse_body(req);
                  const std::string model = required_string(body, "model");
                  const std::string prompt = required_string(body, "prompt");
                  auto e = embed_texts(state, req, model, {{prompt, std::nullopt}},
                                       {parse_keep_alive(body), true, 0}, nullptr);
                  res.set_content(
                      json{{"embedding", e[0]}}.dump(-1, ' ', false, kReplaceInvalidUtf8),
                      "application/json");
              }));
}

}  // namespace lokal::server
