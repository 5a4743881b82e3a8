#include "server/cors.h"

#include <cctype>

namespace lokal::server {

namespace {

std::vector<std::string> default_patterns() {
    std::vector<std::string> out;
    for (const char* scheme : {"http", "https"}) {
        for (const char* host : {"localhost", "127.0.0.1", "[::1]", "0.0.0.0"}) {
            out.push_back(std::string(scheme) + "://" + host);
            out.push_back(std::string(scheme) + "://" + host + ":*");
        }
    }
    for (const char* shell :
         {"app://*", "file://*", "tauri://*", "vscode-webview://*", "vscode-file://*"}) {
        out.emplace_back(shell);
    }
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace((unsigned char)s.front())) s.remove_prefix(1);
    while (!s.empty() && std::isspace((unsigned char)s.back())) s.remove_suffix(1);
    return s;
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view text) {
    size_t p = 0, t = 0, star = std::string_view::npos, resume = 0;
    while (t < text.size()) {
        if (p < pattern.size() && pattern[p] == '*') {
            star = p++;
            resume = t;
        } else if (p < pattern.size() && std::tolower((unsigned char)pattern[p]) ==
                                             std::tolower((unsigned char)text[t])) {
            ++p;
            ++t;
        } else if (star != std::string_view::npos) {
            p = star + 1;
            t = ++resume;
        } else {
            return false;
        }
    }
    while (p < pattern.size() && pattern[p] == '*') ++p;
    return p == pattern.size();
}

OriginPolicy::OriginPolicy(std::string_view extra) : patterns_(default_patterns()) {
    while (!extra.empty()) {
        const size_t comma = extra.find(',');
        const std::string_view item = trim(extra.substr(0, comma));
        if (!item.empty()) patterns_.emplace_back(item);
        if (comma == std::string_view::npos) break;
        extra.remove_prefix(comma + 1);
    }
}

bool OriginPolicy::allowed(std::string_view origin) const {
    for (const std::string& p : patterns_) {
        if (glob_match(p, origin)) return true;
    }
    return false;
}

}  // namespace lokal::server
