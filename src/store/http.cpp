#include "store/http.h"

#include <curl/curl.h>
#include <strings.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <set>

#include "base/error.h"

namespace lokal::store {

namespace {

constexpr size_t kMaxErrorBody = 16 * 1024;
constexpr int kMaxRedirects = 10;

void global_init() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Transfer {
    HttpResult* result = nullptr;
    const BodySink* sink = nullptr;
    CURL* curl = nullptr;
};

bool is_2xx(long s) {
    return s >= 200 && s < 300;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    std::string line(data, size * n);
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
    if (line.starts_with("HTTP/")) {
        // A new response (e.g. after 100 Continue): forget the previous one's headers.
        t->result->has_content_range = false;
        t->result->range_start = 0;
        t->result->range_total = -1;
        t->result->range_end = -1;
        t->result->www_authenticate.clear();
        t->result->location.clear();
        return size * n;
    }
    auto colon = line.find(':');
    if (colon == std::string::npos) return size * n;
    std::string name = line.substr(0, colon);
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    if (strcasecmp(name.c_str(), "www-authenticate") == 0) {
        // Several challenges may come in separate headers; keep the Bearer one.
        if (t->result->www_authenticate.empty() || strncasecmp(value.c_str(), "bearer", 6) == 0)
            t->result->www_authenticate = value;
        return size * n;
    }
    if (strcasecmp(name.c_str(), "location") == 0) {
        t->result->location = value;
        return size * n;
    }
    if (strcasecmp(name.c_str(), "content-range") == 0 && value.starts_with("bytes ")) {
        // bytes START-END/TOTAL
        const char* p = value.c_str() + 6;
        char* end = nullptr;
        unsigned long long start = std::strtoull(p, &end, 10);
        if (end != p && *end == '-') {
            t->result->has_content_range = true;
            t->result->range_start = start;
            const char* e = end + 1;
            char* after = nullptr;
            unsigned long long last = std::strtoull(e, &after, 10);
            if (after != e) t->result->range_end = static_cast<int64_t>(last);
            const char* slash = std::strchr(end, '/');
            if (slash && slash[1] != '*')
                t->result->range_total = std::strtoll(slash + 1, nullptr, 10);
        }
    }
    return size * n;
}

size_t on_body(char* data, size_t size, size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    size_t bytes = size * n;
    long status = 0;
    curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
    t->result->status = status;
    if (!is_2xx(status)) {
        std::string& b = t->result->error_body;
        if (b.size() < kMaxErrorBody) b.append(data, std::min(bytes, kMaxErrorBody - b.size()));
        return bytes;
    }
    if (t->result->content_length < 0) {
        curl_off_t cl = -1;
        curl_easy_getinfo(t->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
        t->result->content_length = cl;
    }
    if (!(*t->sink)(*t->result, data, bytes)) {
        t->result->aborted = true;
        return 0;
    }
    return bytes;
}

// What every request sets: the URL and headers, no redirects followed by curl (the callers
// decide where credentials go), verified TLS, connect and stall timeouts (under 1 byte/s for
// 60 s is a transient error, retried later), and our header and body callbacks on `t`.
void set_transfer_options(CURL* c, const std::string& url, curl_slist* headers, char* errbuf,
                          Transfer& t) {
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "lokal/0.1.0");
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
}

std::mutex insecure_mutex;
std::set<std::string>& insecure_origins() {
    static std::set<std::string> origins;
    return origins;
}

bool is_allowed_insecure(const std::string& url) {
    const std::string origin = url_origin(url);
    std::lock_guard<std::mutex> lock(insecure_mutex);
    return insecure_origins().contains(origin);
}

bool is_loopback(const std::string& host) {
    return host == "127.0.0.1" || host == "localhost" || host == "::1" || host == "[::1]" ||
           host.starts_with("127.");
}

}  // namespace

void allow_plain_http(const std::string& origin) {
    std::lock_guard<std::mutex> lock(insecure_mutex);
    insecure_origins().insert(origin);
}

void check_url_allowed(const std::string& url) {
    global_init();
    CURLU* u = curl_url();
    if (curl_url_set(u, CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
        curl_url_cleanup(u);
        throw Error("invalid URL '" + url + "'");
    }
    char* scheme = nullptr;
    char* host = nullptr;
    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
    curl_url_get(u, CURLUPART_HOST, &host, 0);
    std::string s = scheme ? scheme : "";
    std::string h = host ? host : "";
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    if (s == "https") return;
    if (s == "http" && (is_loopback(h) || is_allowed_insecure(url))) return;
    if (s == "http") {
        throw Error("refusing plain http to '" + h + "' (" + url +
                    "): use https; plain http is only allowed to loopback addresses");
    }
    throw Error("unsupported URL scheme in '" + url + "' (use https)");
}

bool HttpResult::transient() const {
    if (curl_code != 0) {
        switch (static_cast<CURLcode>(curl_code)) {
            case CURLE_COULDNT_RESOLVE_HOST:
            case CURLE_UNSUPPORTED_PROTOCOL:
            case CURLE_URL_MALFORMAT:
            case CURLE_PEER_FAILED_VERIFICATION:
            case CURLE_SSL_CONNECT_ERROR:  // a plain-http server, say: retrying will not help
            case CURLE_SSL_CACERT_BADFILE:
            case CURLE_WRITE_ERROR:
            case CURLE_ABORTED_BY_CALLBACK:
            case CURLE_OUT_OF_MEMORY:
                return false;
            default:
                return true;
        }
    }
    return status == 408 || status == 429 || status >= 500;
}

bool HttpResult::no_network() const {
    return curl_code == CURLE_COULDNT_RESOLVE_HOST || curl_code == CURLE_COULDNT_RESOLVE_PROXY;
}

std::string HttpResult::describe() const {
    if (curl_code != 0) {
        std::string text =
            curl_error.empty() ? curl_easy_strerror(static_cast<CURLcode>(curl_code)) : curl_error;
        if (curl_code == CURLE_SSL_CONNECT_ERROR || curl_code == CURLE_PEER_FAILED_VERIFICATION) {
            text += " (if the registry serves plain http, pull with --insecure)";
        }
        return text;
    }
    return "HTTP " + std::to_string(status);
}

std::string url_origin(const std::string& url) {
    global_init();
    CURLU* u = curl_url();
    if (curl_url_set(u, CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
        curl_url_cleanup(u);
        return {};
    }
    char* scheme = nullptr;
    char* host = nullptr;
    char* port = nullptr;
    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
    curl_url_get(u, CURLUPART_HOST, &host, 0);
    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
    std::string origin =
        std::string(scheme ? scheme : "") + "://" + (host ? host : "") + ":" + (port ? port : "");
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    for (char& c : origin) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return origin;
}

HttpResult http_get(const std::string& url, const std::vector<std::string>& headers,
                    uint64_t range_from, const BodySink& sink) {
    return http_get(url, headers, HttpRange{range_from, -1}, sink);
}

HttpResult http_get(const std::string& start_url, const std::vector<std::string>& headers_in,
                    HttpRange range_req, const BodySink& sink) {
    global_init();
    std::string url = start_url;
    const std::string origin = url_origin(start_url);
    std::vector<std::string> headers = headers_in;
    for (int hop = 0;; ++hop) {
        check_url_allowed(url);
        if (hop > 0 && url_origin(url) != origin) {
            // Credentials are for the registry only, never for where it redirects to.
            std::erase_if(headers, [](const std::string& h) {
                return strncasecmp(h.c_str(), "authorization:", 14) == 0;
            });
        }
        HttpResult r;
        r.url = url;
        CURL* c = curl_easy_init();
        if (!c) throw Error("cannot initialise libcurl", ErrorKind::Internal);
        Transfer t{&r, &sink, c};
        char errbuf[CURL_ERROR_SIZE] = {0};
        curl_slist* hl = nullptr;
        for (const std::string& h : headers) hl = curl_slist_append(hl, h.c_str());
        set_transfer_options(c, url, hl, errbuf, t);
        std::string range;
        if (range_req.from > 0 || range_req.to >= 0) {
            range = std::to_string(range_req.from) + "-";
            if (range_req.to >= 0) range += std::to_string(range_req.to);
            curl_easy_setopt(c, CURLOPT_RANGE, range.c_str());
        }
        CURLcode code = curl_easy_perform(c);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
        if (r.content_length < 0 && is_2xx(r.status)) {
            curl_off_t cl = -1;
            curl_easy_getinfo(c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
            r.content_length = cl;
        }
        std::string next;
        if (code == CURLE_OK && r.status >= 300 && r.status < 400) {
            char* loc = nullptr;
            curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &loc);
            if (loc) next = loc;
        }
        if (code != CURLE_OK && !r.aborted) {
            r.curl_code = code;
            r.curl_error = errbuf[0] ? errbuf : curl_easy_strerror(code);
        }
        curl_slist_free_all(hl);
        curl_easy_cleanup(c);
        if (next.empty()) return r;
        if (hop >= kMaxRedirects)
            throw Error("too many redirects from '" + start_url + "'", ErrorKind::Io);
        url = next;
    }
}

HttpBody string_body(std::string data) {
    HttpBody b;
    b.size = data.size();
    auto shared = std::make_shared<const std::string>(std::move(data));
    b.make_reader = [shared]() -> BodyReader {
        return [shared, off = size_t{0}](char* buf, size_t cap) mutable {
            size_t n = std::min(cap, shared->size() - off);
            std::copy_n(shared->data() + off, n, buf);
            off += n;
            return n;
        };
    };
    return b;
}

std::string resolve_url(const std::string& base, const std::string& location) {
    global_init();
    CURLU* u = curl_url();
    std::string out;
    if (curl_url_set(u, CURLUPART_URL, base.c_str(), 0) == CURLUE_OK &&
        curl_url_set(u, CURLUPART_URL, location.c_str(), 0) == CURLUE_OK) {
        char* full = nullptr;
        if (curl_url_get(u, CURLUPART_URL, &full, 0) == CURLUE_OK && full) out = full;
        curl_free(full);
    }
    curl_url_cleanup(u);
    return out;
}

namespace {

struct Upload {
    BodyReader read;
    uint64_t left = 0;
    bool short_body = false;
};

size_t on_read(char* buf, size_t size, size_t n, void* user) {
    auto* up = static_cast<Upload*>(user);
    size_t cap = static_cast<size_t>(std::min<uint64_t>(size * n, up->left));
    if (cap == 0) return 0;
    size_t got = up->read(buf, cap);
    if (got == 0) {
        up->short_body = true;
        return CURL_READFUNC_ABORT;
    }
    up->left -= got;
    return got;
}

}  // namespace

HttpResult http_send(const std::string& method, const std::string& url,
                     const std::vector<std::string>& headers_in, const HttpBody& body) {
    global_init();
    check_url_allowed(url);
    Upload up;
    if (method != "HEAD" && body.make_reader) {
        up.read = body.make_reader();  // may throw: before anything needs cleaning up
        up.left = body.size;
    }
    HttpResult r;
    r.url = url;
    CURL* c = curl_easy_init();
    if (!c) throw Error("cannot initialise libcurl", ErrorKind::Internal);
    const BodySink discard = [](const HttpResult&, const char*, size_t) { return true; };
    Transfer t{&r, &discard, c};
    char errbuf[CURL_ERROR_SIZE] = {0};
    curl_slist* hl = nullptr;
    for (const std::string& h : headers_in) hl = curl_slist_append(hl, h.c_str());
    // No "Expect: 100-continue" wait before the body: registries answer errors after it anyway.
    hl = curl_slist_append(hl, "Expect:");
    set_transfer_options(c, url, hl, errbuf, t);
    if (method == "HEAD") {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (up.read) {
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(c, CURLOPT_READDATA, &up);
        curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(body.size));
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
    } else {
        // An empty body, with Content-Length: 0.
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
    }
    CURLcode code = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    if (code != CURLE_OK) {
        r.curl_code = code;
        r.curl_error = up.short_body ? "the body ended early"
                                     : (errbuf[0] ? errbuf : curl_easy_strerror(code));
    }
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    return r;
}

}  // namespace lokal::store
