// Registry token auth (the Docker/OCI bearer-token flow): a request answered 401 with
// `WWW-Authenticate: Bearer realm="...",service="...",scope="..."` is retried once with a token
// fetched from the realm (GET realm?service=..&scope=.., JSON {"token"} or {"access_token"}).
// The token is kept for the rest of the pull and only ever sent to the registry's own origin.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/http.h"

namespace lokal::store {

struct BearerChallenge {
    std::string realm;
    std::string service;  // may be empty
    std::string scope;    // may be empty
};

// Parses a WWW-Authenticate value. Parameters may be quoted (with \-escapes, commas inside) or
// bare tokens; names are case-insensitive. nullopt when there is no Bearer challenge with a realm.
std::optional<BearerChallenge> parse_bearer_challenge(std::string_view header);

// The token of a token server's JSON reply ("token", else "access_token"); nullopt when neither
// is a non-empty string or the body is not JSON.
std::optional<std::string> parse_token_response(std::string_view body);

// The first "message" of a registry's OCI error body ({"errors":[{"code","message"}]}), else "".
std::string registry_error_message(const std::string& body);

// Percent-encodes everything outside [A-Za-z0-9-._~].
std::string url_encode(std::string_view s);

// The token URL for a challenge: realm plus service and scope as query parameters.
std::string token_url(const BearerChallenge& c);

// Thread-safe: the parallel parts of a download share one.
class RegistryAuth {
  public:
    // `base`: the registry URL; `model`: the model's name for messages; `token`: a token to send
    // from the start ($LOKAL_REGISTRY_TOKEN), may be empty.
    RegistryAuth(std::string base, std::string model, std::string token, int max_retries,
                 int backoff_ms);

    // http_get with the token; a 401 with a Bearer challenge fetches a (new) token and retries
    // once. Throws lokal::Error "registry X refused access to model Y: ..." when access is still
    // refused.
    HttpResult get(const std::string& url, const std::vector<std::string>& headers, HttpRange range,
                   const BodySink& sink);
    // http_send with the token, the same way. A URL on another origin (an upload location
    // elsewhere) gets no token.
    HttpResult send(const std::string& method, const std::string& url,
                    const std::vector<std::string>& headers, const HttpBody& body);
    // Tokens are asked for this scope instead of the challenge's: a push needs
    // "repository:<ns>/<model>:push,pull" while the first challenge (a HEAD) may name pull only.
    void set_scope(std::string scope);

  private:
    // Runs `perform` with the Authorization header to add (none when there is no token or `url`
    // is on another origin) and handles a 401 as get() describes.
    HttpResult authorized(const std::string& url,
                          const std::function<HttpResult(const std::vector<std::string>&)>& perform);
    std::string current_token();
    // Replaces the token unless another thread already did since `used` was sent.
    void refresh(const std::string& used, const BearerChallenge& c);
    [[noreturn]] void refused(const std::string& why) const;

    std::string base_;
    std::string origin_;
    std::string model_;
    int max_retries_;
    int backoff_ms_;
    std::mutex mu_;
    std::string token_;
    std::string scope_;
};

}  // namespace lokal::store
