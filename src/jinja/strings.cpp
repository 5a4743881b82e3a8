#include "jinja/strings.h"

#include <algorithm>
#include <cctype>

#include "jinja/value.h"

namespace lokal::jinja {

bool is_py_space(unsigned char c) {
    return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}

std::string html_escape(const std::string& s) {
    std::string out;
    for (char c : s) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&#34;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

std::string str_lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::string str_upper(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

std::string str_capitalize(const std::string& s) {
    std::string out = str_lower(s);
    if (!out.empty()) out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
    return out;
}

std::string str_title(const std::string& s) {
    std::string out;
    bool prev_cased = false;
    for (char ch : s) {
        unsigned char c = static_cast<unsigned char>(ch);
        bool alpha = std::isalpha(c) != 0;
        if (alpha) {
            out += static_cast<char>(prev_cased ? std::tolower(c) : std::toupper(c));
        } else {
            out += ch;
        }
        prev_cased = alpha;
    }
    return out;
}

std::string str_strip(const std::string& s, const std::string* chars, bool left, bool right) {
    auto strip_me = [&](size_t i, size_t& len) -> bool {
        if (!chars) {
            len = 1;
            return is_py_space(static_cast<unsigned char>(s[i]));
        }
        // chars is a set of code points; compare whole UTF-8 sequences
        for (const auto& c : utf8_chars(*chars)) {
            if (s.compare(i, c.size(), c) == 0) {
                len = c.size();
                return true;
            }
        }
        return false;
    };
    size_t a = 0, b = s.size();
    if (left) {
        size_t len = 0;
        while (a < b && strip_me(a, len)) a += len;
    }
    if (right) {
        while (b > a) {
            size_t start = b - 1;
            while (start > a && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) start--;
            size_t len = 0;
            if (strip_me(start, len) && start + len == b) {
                b = start;
            } else {
                break;
            }
        }
    }
    return s.substr(a, b - a);
}

std::string str_replace(const std::string& s, const std::string& old, const std::string& rep,
                        int64_t count) {
    std::string out;
    if (old.empty()) {
        // Python inserts `rep` between every character (and at both ends).
        auto chars = utf8_chars(s);
        int64_t done = 0;
        for (const auto& c : chars) {
            if (count < 0 || done < count) {
                out += rep;
                done++;
            }
            out += c;
            check_size(out.size());
        }
        if (count < 0 || done < count) out += rep;
        return out;
    }
    size_t pos = 0;
    int64_t done = 0;
    while (count < 0 || done < count) {
        size_t f = s.find(old, pos);
        if (f == std::string::npos) break;
        out.append(s, pos, f - pos);
        out += rep;
        check_size(out.size());
        pos = f + old.size();
        done++;
    }
    out.append(s, pos, std::string::npos);
    check_size(out.size());
    return out;
}

std::vector<std::string> str_split(const std::string& s, const std::string* sep, int64_t maxsplit,
                                   bool from_right) {
    std::vector<std::string> out;
    if (sep) {
        if (sep->empty()) raise("ValueError", "empty separator");
        if (!from_right) {
            size_t pos = 0;
            while (maxsplit < 0 || static_cast<int64_t>(out.size()) < maxsplit) {
                size_t f = s.find(*sep, pos);
                if (f == std::string::npos) break;
                out.push_back(s.substr(pos, f - pos));
                pos = f + sep->size();
            }
            out.push_back(s.substr(pos));
        } else {
            size_t end = s.size();
            int64_t n = 0;
            while (maxsplit < 0 || n < maxsplit) {
                if (end < sep->size()) break;
                size_t f = s.rfind(*sep, end - sep->size());
                if (f == std::string::npos) break;
                out.push_back(s.substr(f + sep->size(), end - f - sep->size()));
                end = f;
                n++;
            }
            out.push_back(s.substr(0, end));
            std::reverse(out.begin(), out.end());
        }
        return out;
    }
    // Whitespace splitting: runs of whitespace, no empty strings.
    if (!from_right) {
        size_t i = 0;
        while (i < s.size()) {
            while (i < s.size() && is_py_space(static_cast<unsigned char>(s[i]))) i++;
            if (i >= s.size()) break;
            if (maxsplit >= 0 && static_cast<int64_t>(out.size()) >= maxsplit) {
                size_t e = s.size();
                while (e > i && is_py_space(static_cast<unsigned char>(s[e - 1]))) e--;
                out.push_back(s.substr(i, e - i));
                break;
            }
            size_t j = i;
            while (j < s.size() && !is_py_space(static_cast<unsigned char>(s[j]))) j++;
            out.push_back(s.substr(i, j - i));
            i = j;
        }
        return out;
    }
    size_t i = s.size();
    while (i > 0) {
        while (i > 0 && is_py_space(static_cast<unsigned char>(s[i - 1]))) i--;
        if (i == 0) break;
        if (maxsplit >= 0 && static_cast<int64_t>(out.size()) >= maxsplit) {
            size_t b = 0;
            while (b < i && is_py_space(static_cast<unsigned char>(s[b]))) b++;
            out.push_back(s.substr(b, i - b));
            break;
        }
        size_t j = i;
        while (j > 0 && !is_py_space(static_cast<unsigned char>(s[j - 1]))) j--;
        out.push_back(s.substr(j, i - j));
        i = j;
    }
    std::reverse(out.begin(), out.end());
    return out;
}

}  // namespace lokal::jinja
