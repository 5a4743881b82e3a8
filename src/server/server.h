// `lokal serve`: the HTTP server. Ollama's API under /api, OpenAI's under /v1, plus /tokenize,
// /detokenize, /health and /metrics. Requests for a model go to its batch scheduler, so
// concurrent requests share forward passes.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "server/metrics.h"
#include "server/model_manager.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace lokal::server {

struct ServerOptions {
    std::string host = "127.0.0.1";
    int port = 11434;
    std::string api_key;  // empty: no authentication
    std::string tls_cert, tls_key;
    size_t max_body_bytes = 32u << 20;
    ServerModelParams models;
    bool quiet = false;  // no request log
    bool metrics_public = false;  // /metrics answers without the API key (for scrapers)
    std::string origins;  // LOKAL_ORIGINS: web origins allowed beside the local ones (cors.h)
    std::string embed_model;  // new vector stores' embedding model; empty: the store's first
};

// What a request's handler tells the request log.
struct RequestNote {
    std::string model;
    int prompt_tokens = 0;
    int generated_tokens = 0;
};

// State the API handlers share.
struct ServerState {
    explicit ServerState(const ServerOptions& o) : options(o), models(with_load_log(o)) {}
    static ServerModelParams with_load_log(const ServerOptions& o) {
        ServerModelParams p = o.models;
        p.log_loads = !o.quiet;
        return p;
    }
    ServerOptions options;
    ModelManager models;
    Metrics metrics;
    std::atomic<bool> stopping{false};
    std::atomic<int> open_streams{0};  // streamed responses not yet written out
    std::chrono::system_clock::time_point started = std::chrono::system_clock::now();

    void note(const httplib::Request& req, RequestNote n);
    RequestNote take_note(const httplib::Request& req);

  private:
    std::mutex notes_mutex_;
    std::map<const httplib::Request*, RequestNote> notes_;
};

void register_ollama_routes(httplib::Server& http, ServerState& state);
void register_openai_routes(httplib::Server& http, ServerState& state);
void register_admin_routes(httplib::Server& http, ServerState& state);
void register_rerank_routes(httplib::Server& http, ServerState& state);
void register_blob_routes(httplib::Server& http, ServerState& state);
void register_anthropic_routes(httplib::Server& http, ServerState& state);
void register_responses_routes(httplib::Server& http, ServerState& state);
void register_llama_server_routes(httplib::Server& http, ServerState& state);
void register_slots_routes(httplib::Server& http, ServerState& state);  // slots_api.cpp
void register_files_routes(httplib::Server& http, ServerState& state);  // files_api.cpp
void register_vector_store_routes(httplib::Server& http, ServerState& state);
// The one route whose body may exceed ServerOptions::max_body_bytes (model files).
bool is_blob_upload(const httplib::Request& req);

// Serves until SIGINT/SIGTERM, then lets running requests end (cancelling generations) and
// returns 0. Throws lokal::Error when the address cannot be bound or TLS files are bad.
int serve(const ServerOptions& options);

}  // namespace lokal::server
