#include "rag/gitignore.h"

namespace lokal::rag {
namespace {

// `[...]` at pattern[p] (p at the '['): whether c is in the class; `end` gets the index after `]`.
bool class_match(std::string_view pattern, size_t p, char c, size_t& end) {
    size_t i = p + 1;
    bool negate = false;
    if (i < pattern.size() && (pattern[i] == '!' || pattern[i] == '^')) {
        negate = true;
        ++i;
    }
    bool found = false;
    bool first = true;
    for (; i < pattern.size() && (first || pattern[i] != ']'); ++i, first = false) {
        if (i + 2 < pattern.size() && pattern[i + 1] == '-' && pattern[i + 2] != ']') {
            if (c >= pattern[i] && c <= pattern[i + 2]) found = true;
            i += 2;
        } else if (pattern[i] == c) {
            found = true;
        }
    }
    if (i >= pattern.size()) {  // no closing ']': a literal '['
        end = p + 1;
        return c == '[';
    }
    end = i + 1;
    return found != negate;
}

bool match_from(std::string_view pat, size_t p, std::string_view text, size_t t) {
    while (p < pat.size()) {
        const char c = pat[p];
        if (c == '*') {
            const bool double_star = p + 1 < pat.size() && pat[p + 1] == '*';
            if (double_star) {
                size_t after = p + 2;
                // "**/" also matches nothing at all ("a/**/b" matches "a/b").
                if (after < pat.size() && pat[after] == '/') {
                    if (match_from(pat, after + 1, text, t)) return true;
                }
                for (size_t k = t; k <= text.size(); ++k) {
                    if (match_from(pat, after, text, k)) return true;
                }
                return false;
            }
            for (size_t k = t; k <= text.size(); ++k) {
                if (match_from(pat, p + 1, text, k)) return true;
                if (k < text.size() && text[k] == '/') break;
            }
            return false;
        }
        if (t >= text.size()) return false;
        if (c == '?') {
            if (text[t] == '/') return false;
            ++p;
        } else if (c == '[') {
            size_t end = 0;
            if (text[t] == '/' || !class_match(pat, p, text[t], end)) return false;
            p = end;
        } else if (c == '\\' && p + 1 < pat.size()) {
            if (pat[p + 1] != text[t]) return false;
            p += 2;
        } else {
            if (c != text[t]) return false;
            ++p;
        }
        ++t;
    }
    return t == text.size();
}

std::string_view trim_trailing_spaces(std::string_view s) {
    while (!s.empty() && (s.back() == ' ' || s.back() == '\r' || s.back() == '\t')) {
        if (s.size() >= 2 && s[s.size() - 2] == '\\') break;  // "\ " keeps its space
        s.remove_suffix(1);
    }
    return s;
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view text) {
    return match_from(pattern, 0, text, 0);
}

void GitignoreRules::add(const std::string& dir, std::string_view content) {
    size_t pos = 0;
    while (pos <= content.size()) {
        size_t nl = content.find('\n', pos);
        if (nl == std::string_view::npos) nl = content.size();
        std::string_view line = trim_trailing_spaces(content.substr(pos, nl - pos));
        pos = nl + 1;
        if (line.empty() || line[0] == '#') continue;
        Rule r;
        r.dir = dir;
        if (line[0] == '!') {
            r.negate = true;
            line.remove_prefix(1);
        } else if (line[0] == '\\' && line.size() > 1 && (line[1] == '!' || line[1] == '#')) {
            line.remove_prefix(1);
        }
        if (!line.empty() && line.back() == '/') {
            r.dir_only = true;
            line.remove_suffix(1);
        }
        if (!line.empty() && line.front() == '/') {
            r.anchored = true;
            line.remove_prefix(1);
        }
        if (line.find('/') != std::string_view::npos) r.anchored = true;
        if (line.empty()) continue;
        r.pattern = std::string(line);
        rules_.push_back(std::move(r));
    }
}

bool GitignoreRules::ignored(std::string_view path, bool is_dir) const {
    bool ignored = false;
    for (const Rule& r : rules_) {
        if (r.negate != ignored) continue;  // it could not change the answer
        if (r.dir_only && !is_dir) continue;
        std::string_view below = path;
        if (!r.dir.empty()) {
            if (path.size() <= r.dir.size() + 1 || !path.starts_with(r.dir) ||
                path[r.dir.size()] != '/') {
                continue;
            }
            below = path.substr(r.dir.size() + 1);
        }
        const size_t slash = below.rfind('/');
        const std::string_view target =
            r.anchored || slash == std::string_view::npos ? below : below.substr(slash + 1);
        if (glob_match(r.pattern, target)) ignored = !r.negate;
    }
    return ignored;
}

}  // namespace lokal::rag
