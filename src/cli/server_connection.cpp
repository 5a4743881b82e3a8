#include "cli/server_connection.h"

#include <httplib.h>

#include "base/error.h"

namespace lokal::cli {

namespace {

using json = nlohmann::json;

httplib::Headers auth_headers(const ServerAddress& a) {
    httplib::Headers headers;
    if (!a.api_key.empty()) headers.emplace("Authorization", "Bearer " + a.api_key);
    return headers;
}

Error nobody_answers(const ServerAddress& a) {
    return Error("no lokal serve is answering at " + a.url() +
                     " (start one with lokal serve, or set LOKAL_HOST to where it runs)",
                 ErrorKind::NotFound);
}

Error server_error(int status, const std::string& body) {
    const json j = json::parse(body, nullptr, false);
    const std::string message = j.is_object() && j.contains("error") && j["error"].is_string()
                                    ? j["error"].get<std::string>()
                                    : "HTTP " + std::to_string(status);
    return Error(message, status == 404 ? ErrorKind::NotFound : ErrorKind::InvalidInput);
}

}  // namespace

ServerAddress address_of(const server::ServerOptions& srv) {
    // A server listening on every address is reached on this machine's loopback.
    const bool any = srv.host == "0.0.0.0" || srv.host == "::" || srv.host == "[::]";
    return {any ? "127.0.0.1" : srv.host, srv.port, srv.api_key};
}

std::optional<ServerAddress> running_server(const server::ServerOptions& srv) {
    ServerAddress a = address_of(srv);
    httplib::Client client(a.host, a.port);
    client.set_connection_timeout(1);
    client.set_read_timeout(2);
    const httplib::Result r = client.Get("/api/version", auth_headers(a));
    if (!r || r->status != 200) return std::nullopt;
    return a;
}

json call_server(const ServerAddress& a, const std::string& method, const std::string& path,
                 const json& body) {
    httplib::Client client(a.host, a.port);
    client.set_connection_timeout(3);
    client.set_read_timeout(600);
    const httplib::Headers headers = auth_headers(a);
    const httplib::Result r =
        method == "GET"      ? client.Get(path.c_str(), headers)
        : method == "DELETE" ? client.Delete(path.c_str(), headers, body.dump(), "application/json")
                             : client.Post(path.c_str(), headers, body.dump(), "application/json");
    if (!r) throw nobody_answers(a);
    if (r->status >= 400) throw server_error(r->status, r->body);
    return json::parse(r->body, nullptr, false);
}

void stream_from_server(const ServerAddress& a, const std::string& path, const json& body,
                        const std::function<bool(const json&)>& on_line) {
    httplib::Client client(a.host, a.port);
    client.set_connection_timeout(3);
    client.set_read_timeout(3600);  // a long prompt on a slow machine
    std::string pending;
    std::string error_body;
    int status = 0;
    std::optional<Error> failed;
    httplib::Request req;
    req.method = "POST";
    req.path = path;
    req.headers = auth_headers(a);
    req.body = body.dump();
    req.set_header("Content-Type", "application/json");
    req.response_handler = [&](const httplib::Response& res) {
        status = res.status;
        return true;
    };
    req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
        if (status >= 400) {
            error_body.append(data, n);
            return true;
        }
        pending.append(data, n);
        for (size_t nl = pending.find('\n'); nl != std::string::npos; nl = pending.find('\n')) {
            const json line = json::parse(pending.substr(0, nl), nullptr, false);
            pending.erase(0, nl + 1);
            if (!line.is_object()) continue;
            if (line.contains("error")) {
                failed = Error(line["error"].is_string() ? line["error"].get<std::string>()
                                                         : line["error"].dump());
                return false;
            }
            if (!on_line(line)) return false;
        }
        return true;
    };
    const httplib::Result r = client.send(req);
    if (failed) throw *failed;
    if (status >= 400) throw server_error(status, error_body);
    if (!r && status == 0) throw nobody_answers(a);
}

}  // namespace lokal::cli
