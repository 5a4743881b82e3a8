#include "chat/go_template_funcs.h"

#include <algorithm>
#include <array>
#include <ctime>
#include <string_view>

namespace lokal::chat::go {

using json = nlohmann::json;

namespace {

using Args = std::vector<json>;

std::string html_escaped_json(const json& v) {
    const std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
    std::string out;
    for (char c : s) {
        if (c == '<')
            out += "\\u003c";
        else if (c == '>')
            out += "\\u003e";
        else if (c == '&')
            out += "\\u0026";
        else
            out += c;
    }
    return out;
}

bool equal(const json& a, const json& b) {
    if (a.is_number() && b.is_number()) return a.get<double>() == b.get<double>();
    return a == b;
}

int compare(const json& a, const json& b, int line) {
    if (a.is_number() && b.is_number()) {
        const double x = a.get<double>(), y = b.get<double>();
        return x < y ? -1 : x > y ? 1 : 0;
    }
    if (a.is_string() && b.is_string()) return a.get<std::string>().compare(b.get<std::string>());
    fail(line, "incompatible types for comparison");
}

json f_not(const Args& a, int) {
    return !truthy(a[0]);
}
// and/or: the first argument whose truthiness decides the result, else the last one.
json and_or(const Args& a, bool is_or) {
    for (const json& x : a) {
        if (truthy(x) == is_or) return x;
    }
    return a.back();
}
json f_and(const Args& a, int) {
    return and_or(a, false);
}
json f_or(const Args& a, int) {
    return and_or(a, true);
}

json f_eq(const Args& a, int) {
    for (size_t i = 1; i < a.size(); ++i) {
        if (equal(a[0], a[i])) return true;
    }
    return false;
}
json f_ne(const Args& a, int) {
    return !equal(a[0], a[1]);
}
json f_lt(const Args& a, int line) {
    return compare(a[0], a[1], line) < 0;
}
json f_le(const Args& a, int line) {
    return compare(a[0], a[1], line) <= 0;
}
json f_gt(const Args& a, int line) {
    return compare(a[0], a[1], line) > 0;
}
json f_ge(const Args& a, int line) {
    return compare(a[0], a[1], line) >= 0;
}

json f_len(const Args& a, int line) {
    if (a[0].is_string()) return a[0].get<std::string>().size();
    if (a[0].is_array() || a[0].is_object()) return a[0].size();
    if (a[0].is_null()) return 0;
    fail(line, "len of " + print_value(a[0]));
}

json f_index(const Args& a, int line) {
    json v = a[0];
    for (size_t i = 1; i < a.size(); ++i) {
        if (v.is_array() && a[i].is_number_integer()) {
            const int64_t k = a[i].get<int64_t>();
            if (k < 0 || k >= (int64_t)v.size()) fail(line, "index out of range");
            v = v[(size_t)k];
        } else if (v.is_object() && a[i].is_string()) {
            v = v.value(a[i].get<std::string>(), json(nullptr));
        } else {
            fail(line, "can't index " + print_value(v));
        }
    }
    return v;
}

json f_slice(const Args& a, int line) {
    const json& v = a[0];
    const int64_t size = v.is_string()  ? (int64_t)v.get<std::string>().size()
                         : v.is_array() ? (int64_t)v.size()
                                        : -1;
    if (size < 0) fail(line, "can't slice " + print_value(v));
    const int64_t lo = a.size() > 1 ? a[1].get<int64_t>() : 0;
    const int64_t hi = a.size() > 2 ? a[2].get<int64_t>() : size;
    if (lo < 0 || hi < lo || hi > size) fail(line, "slice out of range");
    if (v.is_string()) return v.get<std::string>().substr(lo, hi - lo);
    return json(std::vector<json>(v.begin() + lo, v.begin() + hi));
}

// fmt.Sprint puts spaces between operands when neither is a string; fmt.Sprintln always does
// and ends with a newline.
std::string print_args(const Args& a, bool line_mode) {
    std::string s;
    for (size_t i = 0; i < a.size(); ++i) {
        const bool space = line_mode || (i > 0 && !a[i].is_string() && !a[i - 1].is_string());
        if (i > 0 && space) s += ' ';
        s += print_value(a[i]);
    }
    if (line_mode) s += '\n';
    return s;
}
json f_print(const Args& a, int) {
    return print_args(a, false);
}
json f_println(const Args& a, int) {
    return print_args(a, true);
}

// Every verb prints its operand like print, %q quoted; a missing operand prints %!v(MISSING).
json f_printf(const Args& a, int) {
    const std::string fmt = print_value(a[0]);
    std::string s;
    size_t arg = 1;
    for (size_t i = 0; i < fmt.size(); ++i) {
        if (fmt[i] != '%' || i + 1 >= fmt.size()) {
            s += fmt[i];
            continue;
        }
        const char verb = fmt[++i];
        if (verb == '%') {
            s += '%';
            continue;
        }
        if (arg >= a.size()) {
            s += std::string("%!") + verb + "(MISSING)";
            continue;
        }
        const json& x = a[arg++];
        s += verb == 'q' ? json(print_value(x)).dump() : print_value(x);
    }
    return s;
}

json f_json(const Args& a, int) {
    return html_escaped_json(a[0]);
}

json f_current_date(const Args&, int) {
    char buf[16];
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    localtime_r(&t, &tm);
    std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
    return std::string(buf);
}

struct Builtin {
    std::string_view name;
    size_t min_args;
    json (*fn)(const Args& args, int line);
};

constexpr auto kBuiltins = std::to_array<Builtin>({
    {"not", 1, f_not},
    {"and", 1, f_and},
    {"or", 1, f_or},
    {"eq", 2, f_eq},
    {"ne", 2, f_ne},
    {"lt", 2, f_lt},
    {"le", 2, f_le},
    {"gt", 2, f_gt},
    {"ge", 2, f_ge},
    {"len", 1, f_len},
    {"index", 1, f_index},
    {"slice", 1, f_slice},
    {"print", 0, f_print},
    {"println", 0, f_println},
    {"printf", 1, f_printf},
    {"json", 1, f_json},
    {"currentDate", 0, f_current_date},
});

}  // namespace

bool truthy(const json& v) {
    if (v.is_null()) return false;
    if (v.is_boolean()) return v.get<bool>();
    if (v.is_number()) return v.get<double>() != 0;
    if (v.is_string()) return !v.get_ref<const std::string&>().empty();
    if (v.is_array() || v.is_object()) return !v.empty();
    return true;
}

std::string print_value(const json& v) {
    if (v.is_null()) return "";
    if (v.is_string()) return v.get<std::string>();
    if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
    if (v.is_number()) return v.dump();
    std::string out;
    if (v.is_array()) {
        out = "[";
        for (size_t i = 0; i < v.size(); ++i) out += (i ? " " : "") + print_value(v[i]);
        return out + "]";
    }
    out = "map[";
    bool first = true;
    for (const auto& [k, x] : v.items()) {
        out += (first ? "" : " ") + k + ":" + print_value(x);
        first = false;
    }
    return out + "]";
}

json call_builtin(const std::string& name, const Args& args, int line) {
    const auto row = std::find_if(kBuiltins.begin(), kBuiltins.end(),
                                  [&](const Builtin& b) { return b.name == name; });
    if (row == kBuiltins.end()) fail(line, "function \"" + name + "\" not defined");
    if (args.size() < row->min_args) fail(line, "wrong number of arguments for " + name);
    return row->fn(args, line);
}

}  // namespace lokal::chat::go
