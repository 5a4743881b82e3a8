#include "store/registry_auth.h"

#include <strings.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/error.h"

namespace lokal::store {

namespace {

constexpr size_t kMaxTokenReply = 64 * 1024;

bool is_space(char c) {
    return c == ' ' || c == '\t';
}

bool is_token_char(char c) {
    return c != ',' && c != '=' && c != '"' && !is_space(c);
}

std::string lower(std::string s) {
    for (char& c : s) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return s;
}

}  // namespace

std::string registry_error_message(const std::string& body) {
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (!j.is_object() || !j.contains("errors") || !j["errors"].is_array()) return {};
    for (const auto& e : j["errors"]) {
        if (e.is_object() && e.contains("message") && e["message"].is_string()) {
            return e["message"].get<std::string>();
        }
    }
    return {};
}

std::optional<BearerChallenge> parse_bearer_challenge(std::string_view h) {
    // challenge = scheme 1*SP [ param *( "," param ) ], and several challenges may be listed
    // comma-separated; we scan for the Bearer one.
    size_t i = 0;
    const size_t n = h.size();
    auto skip_ws = [&] {
        while (i < n && is_space(h[i])) ++i;
    };
    bool in_bearer = false;
    BearerChallenge c;
    bool found = false;
    while (i < n) {
        skip_ws();
        if (i < n && h[i] == ',') {
            ++i;
            continue;
        }
        size_t start = i;
        while (i < n && is_token_char(h[i])) ++i;
        std::string word(h.substr(start, i - start));
        if (word.empty()) return std::nullopt;  // stray '=' or '"'
        size_t after_word = i;
        skip_ws();
        if (i < n && h[i] == '=') {
            // name=value (a parameter of the current challenge)
            ++i;
            skip_ws();
            std::string value;
            if (i < n && h[i] == '"') {
                ++i;
                bool closed = false;
                while (i < n) {
                    char ch = h[i++];
                    if (ch == '\\' && i < n) {
                        value += h[i++];
                    } else if (ch == '"') {
                        closed = true;
                        break;
                    } else {
                        value += ch;
                    }
                }
                if (!closed) return std::nullopt;
            } else {
                size_t vs = i;
                while (i < n && is_token_char(h[i])) ++i;
                value = std::string(h.substr(vs, i - vs));
            }
            if (in_bearer) {
                std::string name = lower(word);
                if (name == "realm") c.realm = value;
                if (name == "service") c.service = value;
                if (name == "scope") c.scope = value;
            }
            skip_ws();
            if (i < n && h[i] != ',') return std::nullopt;
            continue;
        }
        // A scheme name starts a new challenge.
        i = after_word;
        if (found) break;  // the Bearer challenge ended
        in_bearer = strcasecmp(word.c_str(), "bearer") == 0;
        found = in_bearer;
        // The first parameter follows after whitespace, without a comma.
    }
    if (!found || c.realm.empty()) return std::nullopt;
    return c;
}

std::optional<std::string> parse_token_response(std::string_view body) {
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (!j.is_object()) return std::nullopt;
    for (const char* key : {"token", "access_token"}) {
        auto it = j.find(key);
        if (it != j.end() && it->is_string() && !it->get<std::string>().empty()) {
            return it->get<std::string>();
        }
    }
    return std::nullopt;
}

std::string url_encode(std::string_view s) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                     c == '-' || c == '.' || c == '_' || c == '~';
        if (plain) {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

std::string token_url(const BearerChallenge& c) {
    std::string url = c.realm;
    char sep = url.find('?') == std::string::npos ? '?' : '&';
    if (!c.service.empty()) {
        url += sep + std::string("service=") + url_encode(c.service);
        sep = '&';
    }
    if (!c.scope.empty()) url += sep + std::string("scope=") + url_encode(c.scope);
    return url;
}

RegistryAuth::RegistryAuth(std::string base, std::string model, std::string token, int max_retries,
                           int backoff_ms)
    : base_(std::move(base)),
      origin_(url_origin(base_)),
      model_(std::move(model)),
      max_retries_(max_retries),
      backoff_ms_(backoff_ms),
      token_(std::move(token)) {}

std::string RegistryAuth::current_token() {
    std::lock_guard lock(mu_);
    return token_;
}

void RegistryAuth::refused(const std::string& why) const {
    throw Error("registry " + base_ + " refused access to model " + model_ + ": " + why,
                ErrorKind::Io);
}

void RegistryAuth::refresh(const std::string& used, const BearerChallenge& c) {
    std::lock_guard lock(mu_);  // one token request at a time; the others then reuse it
    if (token_ != used) return;
    BearerChallenge wanted = c;
    if (!scope_.empty()) wanted.scope = scope_;
    std::string url = token_url(wanted);
    try {
        check_url_allowed(url);
    } catch (const Error& e) {
        refused(std::string("unusable token realm: ") + e.what());
    }
    for (int attempt = 1;; ++attempt) {
        std::string body;
        bool too_big = false;
        HttpResult r =
            http_get(url, {}, HttpRange{}, [&](const HttpResult&, const char* p, size_t n) {
                if (body.size() + n > kMaxTokenReply) {
                    too_big = true;
                    return false;
                }
                body.append(p, n);
                return true;
            });
        if (too_big) refused("the token server " + c.realm + " sent an oversized reply");
        if (r.ok()) {
            auto tok = parse_token_response(body);
            if (!tok) refused("the token server " + c.realm + " sent no token");
            token_ = *tok;
            return;
        }
        if (!r.transient() || attempt > max_retries_) {
            std::string msg = registry_error_message(r.error_body);
            refused("the token server " + c.realm + " answered " + r.describe() +
                    (msg.empty() ? "" : " (" + msg + ")"));
        }
        int delay = backoff_ms_ << std::min(attempt - 1, 4);
        std::this_thread::sleep_for(std::chrono::milliseconds(delay));
    }
}

void RegistryAuth::set_scope(std::string scope) {
    std::lock_guard lock(mu_);
    scope_ = std::move(scope);
}

HttpResult RegistryAuth::get(const std::string& url, const std::vector<std::string>& headers,
                             HttpRange range, const BodySink& sink) {
    return authorized(url, [&](const std::vector<std::string>& auth) {
        std::vector<std::string> hs = headers;
        hs.insert(hs.end(), auth.begin(), auth.end());
        return http_get(url, hs, range, sink);
    });
}

HttpResult RegistryAuth::send(const std::string& method, const std::string& url,
                              const std::vector<std::string>& headers, const HttpBody& body) {
    return authorized(url, [&](const std::vector<std::string>& auth) {
        std::vector<std::string> hs = headers;
        hs.insert(hs.end(), auth.begin(), auth.end());
        return http_send(method, url, hs, body);
    });
}

HttpResult RegistryAuth::authorized(
    const std::string& url,
    const std::function<HttpResult(const std::vector<std::string>&)>& perform) {
    const bool own_origin = url_origin(url) == origin_;
    for (int round = 0;; ++round) {
        std::string used = own_origin ? current_token() : std::string();
        std::vector<std::string> auth;
        if (!used.empty()) auth.push_back("Authorization: Bearer " + used);
        HttpResult r = perform(auth);
        if (r.status != 401) return r;
        std::string msg = registry_error_message(r.error_body);
        std::string detail = "HTTP 401" + (msg.empty() ? "" : " (" + msg + ")");
        if (url_origin(r.url) != origin_) {
            refused(r.url + " answered " + detail + " (another origin; no token sent there)");
        }
        if (round > 0) refused(detail + " even with a token");
        auto challenge = parse_bearer_challenge(r.www_authenticate);
        if (!challenge) {
            refused(detail + (r.www_authenticate.empty() ? ", without a WWW-Authenticate challenge"
                                                         : ", with an unsupported challenge '" +
                                                               r.www_authenticate + "'"));
        }
        refresh(used, *challenge);
    }
}

}  // namespace lokal::store
