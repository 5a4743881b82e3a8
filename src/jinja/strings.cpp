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

namespace {

// Simple case mapping for Latin-1, Latin Extended-A, Greek and Cyrillic (Python maps all of
// Unicode; these cover the scripts templates are likely to case-convert).
uint32_t to_upper_cp(uint32_t c) {
    if (c >= 'a' && c <= 'z') return c - 32;
    if (c < 0x80) return c;
    if ((c >= 0xE0 && c <= 0xFE && c != 0xF7)) return c - 32;
    if (c == 0xFF) return 0x178;
    if (c >= 0x100 && c <= 0x17F) {
        bool odd_lower = (c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E);
        if (c == 0x131) return 'I';
        if (c == 0x130 || c == 0x138 || c == 0x149 || c == 0x178 || c == 0x17F) return c;
        return odd_lower ? (c % 2 == 0 ? c - 1 : c) : (c % 2 == 1 ? c - 1 : c);
    }
    if (c >= 0x3B1 && c <= 0x3C9 && c != 0x3C2) return c - 32;
    if (c == 0x3C2) return 0x3A3;
    if (c >= 0x430 && c <= 0x44F) return c - 32;
    if (c >= 0x450 && c <= 0x45F) return c - 80;
    return c;
}

uint32_t to_lower_cp(uint32_t c) {
    if (c >= 'A' && c <= 'Z') return c + 32;
    if (c < 0x80) return c;
    if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 32;
    if (c == 0x178) return 0xFF;
    if (c >= 0x100 && c <= 0x17F) {
        bool odd_lower = (c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E);
        if (c == 0x130) return 'i';
        if (c == 0x131 || c == 0x138 || c == 0x149 || c == 0x17F) return c;
        return odd_lower ? (c % 2 == 1 ? c + 1 : c) : (c % 2 == 0 ? c + 1 : c);
    }
    if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2) return c + 32;
    if (c >= 0x410 && c <= 0x42F) return c + 32;
    if (c >= 0x400 && c <= 0x40F) return c + 80;
    return c;
}

std::string map_case(const std::string& s, bool upper) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size();) {
        unsigned char b = static_cast<unsigned char>(s[i]);
        if (b < 0x80) {
            out += static_cast<char>(upper ? std::toupper(b) : std::tolower(b));
            i++;
            continue;
        }
        if ((b & 0xE0) != 0xC0 || i + 1 >= s.size()) {  // only 2-byte sequences are mapped
            size_t n = (b & 0xF0) == 0xE0 ? 3 : (b & 0xF8) == 0xF0 ? 4 : 1;
            out.append(s, i, n);
            i += n;
            continue;
        }
        uint32_t cp = ((b & 0x1Fu) << 6) | (static_cast<unsigned char>(s[i + 1]) & 0x3Fu);
        if (upper && cp == 0xDF) {
            out += "SS";
        } else {
            uint32_t m = upper ? to_upper_cp(cp) : to_lower_cp(cp);
            out += static_cast<char>(0xC0 | (m >> 6));
            out += static_cast<char>(0x80 | (m & 0x3F));
        }
        i += 2;
    }
    return out;
}

}  // namespace

std::string str_lower(std::string s) {
    return map_case(s, false);
}

std::string str_upper(std::string s) {
    return map_case(s, true);
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
