// A small HTTP GET on libcurl for the registry client: TLS with certificate checks, redirects
// followed by hand so every hop passes the same URL policy (https anywhere, plain http only to
// loopback addresses), optional Range requests, and the body streamed to a callback.
// Authorization headers are only sent to the origin (scheme, host, port) of the first URL: a
// redirect to another origin (a CDN) drops them.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace lokal::store {

// Throws lokal::Error when the URL is not http(s), or is plain http to a non-loopback host that
// was not allowed with allow_plain_http.
void check_url_allowed(const std::string& url);
// Lets this process speak plain http to `origin` (url_origin's form): a registry the user pulls
// from with --insecure (/api/pull's `insecure`). Redirects elsewhere still need https.
void allow_plain_http(const std::string& origin);

struct HttpResult {
    long status = 0;         // 0 when no response arrived
    int curl_code = 0;       // CURLcode; 0 on success
    std::string curl_error;  // curl's message when curl_code != 0
    bool aborted = false;    // the body callback returned false
    std::string error_body;  // start of a non-2xx body
    bool has_content_range = false;
    uint64_t range_start = 0;      // from Content-Range on a 206
    int64_t range_end = -1;        // the last byte of that range, -1 when absent
    int64_t range_total = -1;      // the "/total" part, -1 when "*" or absent
    int64_t content_length = -1;   // of the final response
    std::string url;               // after redirects
    std::string www_authenticate;  // of the final response (a 401's challenge)
    std::string location;          // of the final response (a 202's upload URL, a redirect)

    bool ok() const { return curl_code == 0 && !aborted && status >= 200 && status < 300; }
    // Worth retrying: dropped connections, timeouts, 5xx, 429, 408.
    bool transient() const;
    // The host could not be resolved: most likely no network.
    bool no_network() const;
    std::string describe() const;  // "HTTP 404" or curl's message
};

// Called with the response of a 2xx reply, after its headers; return false to abort.
using BodySink = std::function<bool(const HttpResult& head, const char* data, size_t n)>;

// Bytes [from, to] of a resource; to < 0: to the end. {0, -1} sends no Range header.
struct HttpRange {
    uint64_t from = 0;
    int64_t to = -1;
};

// GETs `url`, following up to 10 redirects. range_from > 0 sends "Range: bytes=N-".
HttpResult http_get(const std::string& url, const std::vector<std::string>& headers,
                    uint64_t range_from, const BodySink& sink);
HttpResult http_get(const std::string& url, const std::vector<std::string>& headers,
                    HttpRange range, const BodySink& sink);

// What http_send sends: `size` bytes produced by `read` (called with a buffer and its capacity,
// returns how many bytes it wrote there; 0 before `size` bytes is an error). `make_reader`
// gives a fresh reader for each attempt, so a request can be repeated (after a 401, a retry).
using BodyReader = std::function<size_t(char* buf, size_t cap)>;
struct HttpBody {
    uint64_t size = 0;
    std::function<BodyReader()> make_reader;  // empty: no body
};
// A body held in memory.
HttpBody string_body(std::string data);

// One request with `method` (HEAD, POST, PUT, ...) and an optional body, checked against the URL
// policy. Redirects are not followed (an upload is not replayed elsewhere): a 3xx comes back
// with its `location`. A 2xx body is discarded; a non-2xx one lands in error_body.
HttpResult http_send(const std::string& method, const std::string& url,
                     const std::vector<std::string>& headers, const HttpBody& body);

// `location` (absolute, or relative like a Location header) resolved against `base`; "" when it
// does not parse.
std::string resolve_url(const std::string& base, const std::string& location);

// "scheme://host:port" of a URL (port made explicit), "" when it does not parse.
std::string url_origin(const std::string& url);

}  // namespace lokal::store
