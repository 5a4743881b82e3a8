#include "server/server.h"

#include <httplib.h>
#include <signal.h>
#include <strings.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <nlohmann/json.hpp>
#include <string_view>
#include <thread>

#include "base/error.h"
#include "model/compute_device.h"
#include "server/api_util.h"
#include "server/cors.h"
#include "server/gated_http_server.h"

namespace lokal::server {

void ServerState::note(const httplib::Request& req, RequestNote n) {
    std::lock_guard<std::mutex> lock(notes_mutex_);
    notes_[&req] = std::move(n);
}

RequestNote ServerState::take_note(const httplib::Request& req) {
    std::lock_guard<std::mutex> lock(notes_mutex_);
    auto it = notes_.find(&req);
    if (it == notes_.end()) return {};
    RequestNote n = std::move(it->second);
    notes_.erase(it);
    return n;
}

namespace {

bool header_is(const std::string& a, const char* b) {
    return strcasecmp(a.c_str(), b) == 0;
}

std::string default_message(int status) {
    switch (status) {
        case 400:
            return "bad request";
        case 404:
            return "not found";
        case 405:
            return "method not allowed";
        case 413:
            return "the request body is too large";
        case 414:
            return "the request URI is too long";
        default:
            return "HTTP error " + std::to_string(status);
    }
}

// curl -d @request.json (as Ollama's docs do) sends a JSON body labelled form-encoded, and
// cpp-httplib refuses such bodies over 8 KiB with 413 (a limit compiled into the library). Every
// route reads JSON, so the label is dropped before the body is read; --max-body still applies.
// The pre-routing hook gets the request as const, but it is the server's own mutable object.
void treat_form_bodies_as_json(const httplib::Request& req) {
    auto& headers = const_cast<httplib::Headers&>(req.headers);
    for (auto it = headers.begin(); it != headers.end();) {
        const bool form = header_is(it->first, "Content-Type") &&
                          it->second.rfind("application/x-www-form-urlencoded", 0) == 0;
        it = form ? headers.erase(it) : std::next(it);
    }
}

// Bodies over --max-body are refused before they are read. cpp-httplib's own limit cannot do
// it: it is one number for every route, and /api/blobs takes whole model files. So that limit is
// lifted and such a request is re-routed (by path, in the pre-routing hook) to a handler that
// reads and drops the body, since the client is still sending it, and answers 413 in the shape
// of the API that was called.
constexpr std::string_view kOversizedPrefix = "/.oversized";

bool body_too_large(const httplib::Request& req, size_t max_bytes) {
    const std::string length = req.get_header_value("Content-Length");
    if (length.empty()) return false;
    errno = 0;
    char* end = nullptr;
    const unsigned long long n = std::strtoull(length.c_str(), &end, 10);
    return errno == ERANGE || n > max_bytes;
}

void reroute_to_oversized_body(const httplib::Request& req) {
    auto& path = const_cast<std::string&>(req.path);
    path.insert(0, kOversizedPrefix);
    // The body is only drained: without its type, a multipart upload is read as plain bytes
    // (cpp-httplib's plain reader cannot take a multipart body).
    auto& headers = const_cast<httplib::Headers&>(req.headers);
    for (auto it = headers.begin(); it != headers.end();) {
        it = header_is(it->first, "Content-Type") ? headers.erase(it) : std::next(it);
    }
}

void register_oversized_body_route(httplib::Server& http, size_t max_bytes) {
    const std::string pattern = std::string(kOversizedPrefix) + "(/.*)";
    auto drain = [max_bytes](const httplib::Request& req, httplib::Response& res,
                             const httplib::ContentReader& reader) {
        reader([](const char*, size_t) { return true; });
        const_cast<std::string&>(req.path).erase(0, kOversizedPrefix.size());
        send_error(req, res, 413,
                   "the request body is larger than this server accepts (" +
                       std::to_string(max_bytes) + " bytes; lokal serve --max-body)");
    };
    http.Post(pattern, drain);
    http.Put(pattern, drain);
    http.Patch(pattern, drain);
    http.Delete(pattern, drain);
}

// CORS (cors.h): a request from a web page whose origin is not allowed gets 403; an allowed one
// gets its origin echoed, and its preflight (OPTIONS) is answered here. True when answered.
bool answer_cross_origin(const httplib::Request& req, httplib::Response& res,
                         const OriginPolicy& origins) {
    const std::string origin = req.get_header_value("Origin");
    if (origin.empty()) return false;
    if (!origins.allowed(origin)) {
        send_error(req, res, 403,
                   "origin '" + origin +
                       "' is not allowed to use this server; add it to LOKAL_ORIGINS "
                       "(comma-separated, * as a wildcard)");
        return true;
    }
    res.set_header("Access-Control-Allow-Origin", origin);
    res.set_header("Vary", "Origin");
    if (req.method != "OPTIONS") return false;
    res.set_header("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS");
    const std::string asked = req.get_header_value("Access-Control-Request-Headers");
    res.set_header("Access-Control-Allow-Headers",
                   asked.empty() ? "Authorization, Content-Type, X-Api-Key" : asked);
    res.set_header("Access-Control-Max-Age", "86400");
    res.status = 204;
    return true;
}

// The signal watcher: the first SIGINT/SIGTERM starts a graceful shutdown.
void block_shutdown_signals(sigset_t& set) {
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

constexpr size_t kWorkers = 256;
constexpr int kKeepAliveSeconds = 5;  // idle keep-alive connections also delay shutdown

// Plain HTTP behind the connection gate (gated_http_server.h), or HTTPS when both a certificate
// and a key are given.
std::unique_ptr<httplib::Server> make_http_server(const ServerOptions& options) {
    if (options.tls_cert.empty() && options.tls_key.empty()) {
        return std::make_unique<GatedHttpServer>(
            gate_limits_from_environment(std::chrono::seconds(kKeepAliveSeconds)), kWorkers);
    }
    if (options.tls_cert.empty() || options.tls_key.empty()) {
        throw Error("TLS needs both --tls-cert and --tls-key");
    }
    auto tls =
        std::make_unique<httplib::SSLServer>(options.tls_cert.c_str(), options.tls_key.c_str());
    if (!tls->is_valid()) {
        throw Error("cannot use the TLS certificate '" + options.tls_cert + "' and key '" +
                    options.tls_key + "'; check that both are PEM files that match");
    }
    return tls;
}

void set_limits(httplib::Server& http) {
    if (dynamic_cast<GatedHttpServer*>(&http) == nullptr) {
        // HTTPS: cpp-httplib's thread per connection, with enough of them for many slow or
        // idle clients beside the real work.
        http.new_task_queue = [] { return new httplib::ThreadPool(kWorkers); };
    }
    http.set_keep_alive_max_count(1000);
    http.set_keep_alive_timeout(kKeepAliveSeconds);
    http.set_read_timeout(300);
    http.set_write_timeout(300);
    // Model files uploaded to /api/blobs can be any size; every other body is held to
    // --max-body in the pre-routing hook, before it is read.
    http.set_payload_max_length(std::numeric_limits<size_t>::max());
}

bool authorized(const httplib::Request& req, const ServerOptions& options) {
    if (options.api_key.empty() || req.path == "/" || req.path == "/health" ||
        (options.metrics_public && req.path == "/metrics")) {
        return true;
    }
    return req.get_header_value("Authorization") == "Bearer " + options.api_key ||
           req.get_header_value("X-Api-Key") == options.api_key;
}

// What every request goes through before its route: CORS, the body limit, form-labelled JSON,
// the API key.
void set_pre_routing(httplib::Server& http, const ServerOptions& options,
                     const OriginPolicy& origins) {
    http.set_pre_routing_handler(
        [&options, &origins](const httplib::Request& req, httplib::Response& res) {
            if (answer_cross_origin(req, res, origins)) {
                return httplib::Server::HandlerResponse::Handled;
            }
            if (!is_blob_upload(req) && body_too_large(req, options.max_body_bytes)) {
                reroute_to_oversized_body(req);
                return httplib::Server::HandlerResponse::Unhandled;
            }
            treat_form_bodies_as_json(req);
            if (authorized(req, options)) return httplib::Server::HandlerResponse::Unhandled;
            send_error(req, res, 401, "missing or wrong API key");
            return httplib::Server::HandlerResponse::Handled;
        });
}

// Errors cpp-httplib answers itself (404, 400 for a bad request line) and exceptions that escape
// a handler get our JSON error bodies; every answer is counted and, unless quiet, logged.
void set_error_and_log_handlers(httplib::Server& http, ServerState& state) {
    http.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty()) return;
        send_error(req, res, res.status, default_message(res.status));
    });
    http.set_exception_handler(
        [](const httplib::Request& req, httplib::Response& res, const std::exception_ptr& ep) {
            std::string message = "internal error";
            try {
                std::rethrow_exception(ep);
            } catch (const std::exception& e) {
                message = e.what();
            } catch (...) {
            }
            send_error(req, res, 500, message);
        });
    http.set_logger([&state](const httplib::Request& req, const httplib::Response& res) {
        state.metrics.count_request(res.status);
        const RequestNote n = state.take_note(req);
        if (state.options.quiet) return;
        std::fprintf(stderr, "%s %s %d", req.method.c_str(), req.path.c_str(), res.status);
        if (!n.model.empty()) {
            std::fprintf(stderr, " model=%s prompt_tokens=%d tokens=%d", n.model.c_str(),
                         n.prompt_tokens, n.generated_tokens);
        }
        std::fprintf(stderr, "\n");
    });
}

void register_routes(httplib::Server& http, ServerState& state) {
    register_admin_routes(http, state);
    register_ollama_routes(http, state);
    register_openai_routes(http, state);
    register_rerank_routes(http, state);
    register_blob_routes(http, state);
    register_anthropic_routes(http, state);
    register_responses_routes(http, state);
    register_llama_server_routes(http, state);
    register_slots_routes(http, state);
    register_files_routes(http, state);
    register_vector_store_routes(http, state);
    register_oversized_body_route(http, state.options.max_body_bytes);
}

void bind_or_throw(httplib::Server& http, const ServerOptions& options) {
    // SO_REUSEADDR only (cpp-httplib's default adds SO_REUSEPORT, which lets a second server
    // share the port silently): a restart can bind at once, a second server cannot.
    http.set_socket_options([](socket_t sock) {
        int yes = 1;
        setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    });
    if (!http.bind_to_port(options.host.c_str(), options.port)) {
        throw Error("cannot listen on " + options.host + ":" + std::to_string(options.port) +
                        ": address already in use (another lokal serve?) or not an address of "
                        "this machine; choose another with --port",
                    ErrorKind::Io);
    }
}

// The first SIGINT/SIGTERM: cancel the generations, let their streams end, stop listening.
void shut_down_on_signal(sigset_t& signals, ServerState& state, httplib::Server& http) {
    int sig = 0;
    sigwait(&signals, &sig);
    if (state.stopping.exchange(true)) return;
    if (!state.options.quiet) std::fprintf(stderr, "lokal: shutting down\n");
    state.models.shutdown();  // cancels generations so their responses end
    // cpp-httplib stops writing chunked responses once it stops: let each cut stream send its
    // closing error line first (a client stuck not reading gets 5 s).
    for (int i = 0; i < 500 && state.open_streams.load() > 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    http.stop();
}

}  // namespace

int serve(const ServerOptions& options) {
    sigset_t signals;
    block_shutdown_signals(signals);  // before any thread starts, so all inherit it
    std::unique_ptr<httplib::Server> http = make_http_server(options);
    ServerState state(options);
    const OriginPolicy origins(options.origins);
    set_limits(*http);
    set_pre_routing(*http, state.options, origins);
    set_error_and_log_handlers(*http, state);
    register_routes(*http, state);
    bind_or_throw(*http, options);
    std::thread watcher([&] { shut_down_on_signal(signals, state, *http); });
    const model::ComputeDevice& device = model::compute_device();  // a bad LOKAL_DEVICE: an error
    std::fprintf(stderr, "lokal: models run on %s (%s)\n", device.name.c_str(),
                 device.reason.c_str());
    std::fprintf(stderr, "lokal: listening on %s://%s:%d\n",
                 options.tls_cert.empty() ? "http" : "https", options.host.c_str(), options.port);
    std::fflush(stderr);
    http->listen_after_bind();
    if (auto* gated = dynamic_cast<GatedHttpServer*>(http.get())) gated->drain();
    if (!state.stopping.load()) {
        // listen ended by itself: wake the watcher so it can be joined.
        // NOLINTNEXTLINE(bugprone-bad-signal-to-kill-thread): it wakes sigwait, it kills nothing
        pthread_kill(watcher.native_handle(), SIGTERM);
    }
    watcher.join();
    state.models.shutdown();
    return 0;
}

}  // namespace lokal::server
