#include "server/api_util.h"

#include <cstdio>

#include <atomic>
#include <chrono>
#include <ctime>
#include <random>

#include "base/error.h"
#include "chat/prompt.h"
#include "server/http_error.h"
#include "server/llama_server_wire.h"

namespace lokal::server {

using json = nlohmann::ordered_json;

json parse_body(const httplib::Request& req) {
    json j = json::parse(req.body, nullptr, false);
    if (j.is_discarded()) throw HttpError(400, "the request body is not valid JSON");
    if (!j.is_object()) throw HttpError(400, "the request body must be a JSON object");
    return j;
}

void send_error(const httplib::Request& req, httplib::Response& res, int status,
                const std::string& message, const std::string& param) {
    json j;
    if (req.path.starts_with("/v1/messages")) {
        // Anthropic's shape: {"type": "error", "error": {"type": ..., "message": ...}}
        const char* type = status == 401   ? "authentication_error"
                           : status == 403 ? "permission_error"
                           : status == 404 ? "not_found_error"
                           : status == 413 ? "request_too_large"
                           : status == 429 ? "rate_limit_error"
                           : status == 503 ? "overloaded_error"
                           : status >= 500 ? "api_error"
                                           : "invalid_request_error";
        j = {{"type", "error"}, {"error", {{"type", type}, {"message", message}}}};
    } else if (req.path == "/infill" || req.path.starts_with("/slots")) {
        j = llama_server_error(status, message);
    } else if (req.path.starts_with("/v1/")) {
        const char* type = status == 401   ? "authentication_error"
                           : status == 404 ? "not_found_error"
                           : status == 503 ? "server_busy"
                           : status >= 500 ? "server_error"
                                           : "invalid_request_error";
        j["error"] = {{"message", message},
                      {"type", type},
                      {"param", param.empty() ? json(nullptr) : json(param)},
                      {"code", nullptr}};
    } else {
        j["error"] = message;
    }
    res.status = status;
    if (status == 503) res.set_header("Retry-After", "1");
    res.set_content(j.dump(-1, ' ', false, kReplaceInvalidUtf8), "application/json");
}

void answer_errors(ServerState& state, const httplib::Request& req, httplib::Response& res,
                   const std::function<void()>& fn) {
    try {
        if (state.stopping.load()) throw HttpError(503, "the server is shutting down");
        fn();
    } catch (const HttpError& e) {
        send_error(req, res, e.status, e.what(), e.param);
    } catch (const ModelNotFound& e) {
        send_error(req, res, 404, e.what(), "model");
    } catch (const chat::PromptError& e) {
        send_error(req, res, 400, e.what(), e.field);
    } catch (const Error& e) {
        send_error(req, res, http_status(e.kind()), e.what());
    } catch (const json::exception& e) {
        send_error(req, res, 400, std::string("malformed request: ") + e.what());
    } catch (const std::bad_alloc&) {
        send_error(req, res, 500, "out of memory");
    } catch (const std::exception& e) {
        send_error(req, res, 500, e.what());
    }
}

httplib::Server::Handler guarded(
    ServerState& state, std::function<void(const httplib::Request&, httplib::Response&)> fn) {
    return [&state, fn = std::move(fn)](const httplib::Request& req, httplib::Response& res) {
        answer_errors(state, req, res, [&] { fn(req, res); });
    };
}

std::string random_id(const char* prefix) {
    static std::atomic<uint64_t> counter{0};
    static const uint64_t salt = std::random_device{}();
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s%016llx", prefix,
                  (unsigned long long)(salt * 6364136223846793005ULL + ++counter));
    return buf;
}

std::string rfc3339_now() {
    const auto now = std::chrono::system_clock::now();
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch());
    const std::time_t secs = (std::time_t)(ns.count() / 1000000000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    char out[96];
    std::snprintf(out, sizeof out, "%s.%09lldZ", buf, (long long)(ns.count() % 1000000000));
    return out;
}

int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

int64_t nanoseconds(double seconds) {
    return (int64_t)(seconds * 1e9);
}

const char* finish_reason(engine::StopReason r) {
    return r == engine::StopReason::MaxTokens || r == engine::StopReason::ContextFull ? "length"
                                                                                      : "stop";
}

void stream_response(ServerState& state, httplib::Response& res, const char* content_type,
                     std::shared_ptr<CompletionStream> stream, std::shared_ptr<void> keep,
                     StreamWriter write) {
    std::shared_ptr<CompletionStream> on_release = stream;
    state.open_streams.fetch_add(1);
    res.set_chunked_content_provider(
        content_type,
        [stream = std::move(stream), keep = std::move(keep), write = std::move(write)](
            size_t, httplib::DataSink& sink) {
            std::vector<Piece> pieces;
            const bool more = stream->next(pieces);
            std::string out;
            try {
                out = write(pieces, !more);
            } catch (const std::exception& e) {
                // Nothing may escape into the HTTP thread: end this stream, keep the server.
                std::fprintf(stderr, "lokal: streaming a response failed: %s\n", e.what());
                stream->cancel();
                return false;
            }
            if (!out.empty() && !sink.write(out.data(), out.size())) {
                stream->cancel();  // the client went away
                return false;
            }
            if (!more) sink.done();
            return true;
        },
        [stream = std::move(on_release), &state](bool success) {
            if (!success) stream->cancel();
            state.open_streams.fetch_sub(1);
        });
}

}  // namespace lokal::server
