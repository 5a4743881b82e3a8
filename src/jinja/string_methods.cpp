// Python methods of str that templates call (`s.strip()`, `s.split(",")`, ...).
#include <algorithm>
#include <array>
#include <cctype>

#include "jinja/interp.h"
#include "jinja/methods.h"
#include "jinja/strings.h"

namespace lokal::jinja {

namespace {

int64_t opt_int(const Value& v, int64_t def) {
    return v.is_undefined() || v.is_none() ? def : v.to_int();
}

Value list_of_strings(std::vector<std::string> parts) {
    std::vector<Value> out;
    out.reserve(parts.size());
    for (auto& p : parts) out.emplace_back(std::move(p));
    return Value::list(std::move(out));
}

// The value of one replacement field of str.format: "" (the next positional argument), an index
// or a keyword name.
Value format_field(const std::string& field, CallArgs& a, size_t& auto_index) {
    if (field.empty()) {
        if (auto_index >= a.args.size()) raise("IndexError", "Replacement index out of range");
        return a.args[auto_index++];
    }
    if (std::all_of(field.begin(), field.end(), ::isdigit)) {
        size_t k = std::stoul(field);
        if (k >= a.args.size()) raise("IndexError", "Replacement index out of range");
        return a.args[k];
    }
    Value v;
    bool found = false;
    for (auto& [k, val] : a.kwargs)
        if (k == field) {
            v = val;
            found = true;
        }
    if (!found) raise("KeyError", "'" + field + "'");
    return v;
}

// Python str.format with positional/keyword fields; format specs are not supported.
std::string py_format(const std::string& fmt, CallArgs& a) {
    std::string out;
    size_t auto_index = 0;
    for (size_t i = 0; i < fmt.size(); i++) {
        char c = fmt[i];
        if (c == '{' && i + 1 < fmt.size() && fmt[i + 1] == '{') {
            out += '{';
            i++;
        } else if (c == '}' && i + 1 < fmt.size() && fmt[i + 1] == '}') {
            out += '}';
            i++;
        } else if (c == '{') {
            size_t end = fmt.find('}', i);
            if (end == std::string::npos)
                raise("ValueError", "Single '{' encountered in format string");
            std::string field = fmt.substr(i + 1, end - i - 1);
            if (field.find(':') != std::string::npos || field.find('!') != std::string::npos)
                raise("ValueError", "format specs are not supported: {" + field + "}");
            out += format_field(field, a, auto_index).str();
            check_size(out.size());
            i = end;
        } else if (c == '}') {
            raise("ValueError", "Single '}' encountered in format string");
        } else {
            out += c;
        }
    }
    return out;
}

bool starts_or_ends(const std::string& s, const Value& arg, bool start) {
    auto test = [&](const std::string& p) {
        if (p.size() > s.size()) return false;
        return start ? s.compare(0, p.size(), p) == 0
                     : s.compare(s.size() - p.size(), p.size(), p) == 0;
    };
    if (arg.is_list() && !arg.is_generator()) {
        for (const auto& x : arg.as_list()->items)
            if (test(x.str())) return true;
        return false;
    }
    if (!arg.is_string())
        raise("TypeError", std::string(start ? "startswith" : "endswith") +
                               " first arg must be str or a tuple of str, not " + arg.type_name());
    return test(arg.as_string());
}

Value strip(const Value& v, CallArgs& a, bool left, bool right) {
    Value chars = a.get(0, "chars", Value(None{}));
    return Value(
        str_strip(v.as_string(), chars.is_none() ? nullptr : &chars.as_string(), left, right));
}
Value m_strip(const Value& v, CallArgs& a) {
    return strip(v, a, true, true);
}
Value m_lstrip(const Value& v, CallArgs& a) {
    return strip(v, a, true, false);
}
Value m_rstrip(const Value& v, CallArgs& a) {
    return strip(v, a, false, true);
}

Value split(const Value& v, CallArgs& a, bool right) {
    Value sep = a.get(0, "sep", Value(None{}));
    int64_t maxsplit = opt_int(a.get(1, "maxsplit"), -1);
    std::string sep_s = sep.is_none() ? "" : sep.str();
    return list_of_strings(
        str_split(v.as_string(), sep.is_none() ? nullptr : &sep_s, maxsplit, right));
}
Value m_split(const Value& v, CallArgs& a) {
    return split(v, a, false);
}
Value m_rsplit(const Value& v, CallArgs& a) {
    return split(v, a, true);
}

Value m_splitlines(const Value& v, CallArgs& a) {
    bool keep = a.get(0, "keepends", Value(false)).truthy();
    std::vector<std::string> lines;
    const std::string& str = v.as_string();
    size_t start = 0;
    for (size_t i = 0; i < str.size(); i++) {
        if (str[i] == '\n' || str[i] == '\r') {
            size_t end = i;
            if (str[i] == '\r' && i + 1 < str.size() && str[i + 1] == '\n') i++;
            lines.push_back(str.substr(start, (keep ? i + 1 : end) - start));
            start = i + 1;
        }
    }
    if (start < str.size()) lines.push_back(str.substr(start));
    return list_of_strings(std::move(lines));
}

Value m_startswith(const Value& v, CallArgs& a) {
    return Value(starts_or_ends(v.as_string(), a.get(0, "prefix"), true));
}
Value m_endswith(const Value& v, CallArgs& a) {
    return Value(starts_or_ends(v.as_string(), a.get(0, "prefix"), false));
}

Value m_upper(const Value& v, CallArgs&) {
    return Value(str_upper(v.as_string()));
}
Value m_lower(const Value& v, CallArgs&) {
    return Value(str_lower(v.as_string()));
}
Value m_title(const Value& v, CallArgs&) {
    return Value(str_title(v.as_string()));
}
Value m_capitalize(const Value& v, CallArgs&) {
    return Value(str_capitalize(v.as_string()));
}

Value m_replace(const Value& v, CallArgs& a) {
    return Value(str_replace(v.as_string(), a.get(0, "old").str(), a.get(1, "new").str(),
                             opt_int(a.get(2, "count"), -1)));
}

// find/rfind return -1 when absent, index/rindex raise; the position counts code points.
Value find(const Value& v, CallArgs& a, bool right, bool throws) {
    const std::string& str = v.as_string();
    std::string sub = a.get(0, "sub").str();
    size_t f = right ? str.rfind(sub) : str.find(sub);
    if (f == std::string::npos) {
        if (throws) raise("ValueError", "substring not found");
        return Value(-1);
    }
    return Value(static_cast<int64_t>(utf8_length(std::string_view(str).substr(0, f))));
}
Value m_find(const Value& v, CallArgs& a) {
    return find(v, a, false, false);
}
Value m_rfind(const Value& v, CallArgs& a) {
    return find(v, a, true, false);
}
Value m_index(const Value& v, CallArgs& a) {
    return find(v, a, false, true);
}
Value m_rindex(const Value& v, CallArgs& a) {
    return find(v, a, true, true);
}

Value m_count(const Value& v, CallArgs& a) {
    const std::string& str = v.as_string();
    std::string sub = a.get(0, "sub").str();
    if (sub.empty()) return Value(static_cast<int64_t>(utf8_length(str) + 1));
    int64_t n = 0;
    for (size_t p = str.find(sub); p != std::string::npos; p = str.find(sub, p + sub.size())) n++;
    return Value(n);
}

Value m_join(const Value& v, CallArgs& a) {
    std::string out;
    bool first = true;
    for (const auto& item : iterate(a.get(0, "iterable"))) {
        if (!item.is_string())
            raise("TypeError",
                  "sequence item: expected str instance, " + item.type_name() + " found");
        if (!first) out += v.as_string();
        first = false;
        out += item.as_string();
        check_size(out.size());
    }
    return Value(std::move(out));
}

Value m_format(const Value& v, CallArgs& a) {
    return Value(py_format(v.as_string(), a));
}

Value remove_fix(const Value& v, CallArgs& a, bool prefix) {
    const std::string& str = v.as_string();
    std::string p = a.get(0, "fix").str();
    if (p.size() <= str.size()) {
        if (prefix && str.compare(0, p.size(), p) == 0) return Value(str.substr(p.size()));
        if (!prefix && str.compare(str.size() - p.size(), p.size(), p) == 0)
            return Value(str.substr(0, str.size() - p.size()));
    }
    return v;
}
Value m_removeprefix(const Value& v, CallArgs& a) {
    return remove_fix(v, a, true);
}
Value m_removesuffix(const Value& v, CallArgs& a) {
    return remove_fix(v, a, false);
}

// isdigit, isalpha, ...: true when the string is not empty and every byte passes. Bytes of
// multi-byte UTF-8 characters count as letters.
using CharTest = bool (*)(unsigned char);
template <CharTest test>
Value m_all_chars(const Value& v, CallArgs&) {
    const std::string& s = v.as_string();
    return Value(!s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return test(static_cast<unsigned char>(c));
    }));
}
bool digit_char(unsigned char c) {
    return std::isdigit(c) != 0;
}
bool alpha_char(unsigned char c) {
    return std::isalpha(c) != 0 || c >= 0x80;
}
bool alnum_char(unsigned char c) {
    return std::isalnum(c) != 0 || c >= 0x80;
}
bool space_char(unsigned char c) {
    return is_py_space(c);
}

// islower/isupper: at least one cased character and none of the other case.
Value cased(const Value& v, bool upper) {
    bool any = false;
    for (unsigned char c : v.as_string()) {
        if (std::islower(c)) {
            if (upper) return Value(false);
            any = true;
        } else if (std::isupper(c)) {
            if (!upper) return Value(false);
            any = true;
        }
    }
    return Value(any);
}
Value m_islower(const Value& v, CallArgs&) {
    return cased(v, false);
}
Value m_isupper(const Value& v, CallArgs&) {
    return cased(v, true);
}

constexpr auto kStringMethods = std::to_array<MethodRow>({
    {"strip", m_strip},
    {"lstrip", m_lstrip},
    {"rstrip", m_rstrip},
    {"split", m_split},
    {"rsplit", m_rsplit},
    {"splitlines", m_splitlines},
    {"startswith", m_startswith},
    {"endswith", m_endswith},
    {"upper", m_upper},
    {"lower", m_lower},
    {"title", m_title},
    {"capitalize", m_capitalize},
    {"replace", m_replace},
    {"find", m_find},
    {"rfind", m_rfind},
    {"index", m_index},
    {"rindex", m_rindex},
    {"count", m_count},
    {"join", m_join},
    {"format", m_format},
    {"removeprefix", m_removeprefix},
    {"removesuffix", m_removesuffix},
    {"isdigit", m_all_chars<digit_char>},
    {"isnumeric", m_all_chars<digit_char>},
    {"isdecimal", m_all_chars<digit_char>},
    {"isalpha", m_all_chars<alpha_char>},
    {"isalnum", m_all_chars<alnum_char>},
    {"isspace", m_all_chars<space_char>},
    {"islower", m_islower},
    {"isupper", m_isupper},
});

}  // namespace

Value string_method(const Value& self, const std::string& name) {
    return bind_method(kStringMethods, self, name);
}

}  // namespace lokal::jinja
