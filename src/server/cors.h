// Which web pages may call the API from a browser (CORS), as Ollama decides it: pages served from
// this machine (http(s)://localhost, 127.0.0.1, [::1], 0.0.0.0 on any port) and desktop/editor
// shells (app://, file://, tauri://, vscode-webview://, vscode-file://) by default, plus the
// patterns in LOKAL_ORIGINS / OLLAMA_ORIGINS (comma-separated, `*` matches any run of
// characters: "https://*.example.com", or "*" for every origin). A request from any other page
// is refused with 403, so a web site cannot drive the local models of its visitors.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace lokal::server {

class OriginPolicy {
  public:
    // `extra`: the value of LOKAL_ORIGINS (or OLLAMA_ORIGINS); may be empty.
    explicit OriginPolicy(std::string_view extra = {});
    bool allowed(std::string_view origin) const;

  private:
    std::vector<std::string> patterns_;
};

// `*` matches any (possibly empty) run of characters; everything else itself, ignoring case.
bool glob_match(std::string_view pattern, std::string_view text);

}  // namespace lokal::server
