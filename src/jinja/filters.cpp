// Builtin filters, following jinja2 3.1's definitions (plus Hugging Face's tojson).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "jinja/interp.h"
#include "jinja/strings.h"

namespace lokal::jinja {

namespace {

using FilterFn = Value (*)(Interpreter&, Value&, CallArgs&);

// Items of a value that is being iterated (generators included).
std::vector<Value> items_of(const Value& v) {
    return iterate(v);
}

// jinja2's make_attrgetter: "a.b.0" looks up a, then b, then item 0.
Value get_path(const Value& item, const Value& attribute) {
    if (!attribute.is_string()) return get_item(item, attribute);
    Value cur = item;
    const std::string& path = attribute.as_string();
    size_t start = 0;
    while (true) {
        size_t dot = path.find('.', start);
        std::string part =
            path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
        bool digits = !part.empty() && std::all_of(part.begin(), part.end(), ::isdigit);
        cur = digits ? get_item(cur, Value(static_cast<int64_t>(std::stoll(part))))
                     : get_item(cur, Value(part));
        if (dot == std::string::npos) return cur;
        start = dot + 1;
    }
}

Value ignore_case(const Value& v, bool case_sensitive) {
    if (!case_sensitive && v.is_string()) return Value(str_lower(v.as_string()));
    return v;
}

Value f_tojson(Interpreter&, Value& v, CallArgs& a) {
    bool ensure_ascii = a.get(0, "ensure_ascii", Value(false)).truthy();
    Value indent = a.get(1, "indent", Value(None{}));
    Value seps = a.get(2, "separators", Value(None{}));
    bool sort_keys = a.get(3, "sort_keys", Value(false)).truthy();
    std::string item_sep = indent.is_none() ? ", " : ",", key_sep = ": ";
    if (!seps.is_none()) {
        auto parts = iterate(seps);
        if (parts.size() != 2) raise("ValueError", "separators must be a pair");
        item_sep = parts[0].str();
        key_sep = parts[1].str();
    }
    return Value(to_json_text(v, indent, ensure_ascii, item_sep, key_sep, sort_keys));
}

Value f_trim(Interpreter&, Value& v, CallArgs& a) {
    Value chars = a.get(0, "chars", Value(None{}));
    return Value(str_strip(v.str(), chars.is_none() ? nullptr : &chars.as_string(), true, true));
}
Value f_upper(Interpreter&, Value& v, CallArgs&) {
    return Value(str_upper(v.str()));
}
Value f_lower(Interpreter&, Value& v, CallArgs&) {
    return Value(str_lower(v.str()));
}
Value f_capitalize(Interpreter&, Value& v, CallArgs&) {
    return Value(str_capitalize(v.str()));
}
Value f_title(Interpreter&, Value& v, CallArgs&) {
    // jinja2 capitalizes words split at whitespace, '-', '(', '{', '[' and '<'.
    std::string s = v.str(), out;
    bool word_start = true;
    for (char c : s) {
        bool sep = std::isspace(static_cast<unsigned char>(c)) || c == '-' || c == '(' ||
                   c == '{' || c == '[' || c == '<';
        if (sep) {
            out += c;
            word_start = true;
        } else {
            out += word_start ? static_cast<char>(std::toupper(static_cast<unsigned char>(c)))
                              : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            word_start = false;
        }
    }
    return Value(std::move(out));
}
Value f_replace(Interpreter&, Value& v, CallArgs& a) {
    Value count = a.get(2, "count", Value(None{}));
    return Value(str_replace(v.str(), a.get(0, "old").str(), a.get(1, "new").str(),
                             count.is_none() ? -1 : count.to_int()));
}
Value f_length(Interpreter&, Value& v, CallArgs&) {
    return length_of(v);
}
Value f_first(Interpreter&, Value& v, CallArgs&) {
    if (v.is_dict() || v.is_string() || v.is_list() || v.is_undefined()) {
        auto items = items_of(v);
        if (!items.empty()) return items.front();
    }
    return Value::undefined("No first item, sequence was empty.");
}
Value f_last(Interpreter&, Value& v, CallArgs&) {
    if (v.is_generator()) raise("TypeError", "'generator' object is not reversible");
    auto items = items_of(v);
    if (!items.empty()) return items.back();
    return Value::undefined("No last item, sequence was empty.");
}
Value f_join(Interpreter&, Value& v, CallArgs& a) {
    std::string sep = a.get(0, "d", Value("")).str();
    Value attr = a.get(1, "attribute", Value(None{}));
    std::string out;
    bool first = true;
    for (const auto& item : items_of(v)) {
        if (!first) out += sep;
        first = false;
        out += attr.is_none() ? item.str() : get_path(item, attr).str();
        check_size(out.size());
    }
    return Value(std::move(out));
}
Value f_default(Interpreter&, Value& v, CallArgs& a) {
    bool boolean = a.get(1, "boolean", Value(false)).truthy();
    if (v.is_undefined() || (boolean && !v.truthy())) return a.get(0, "default_value", Value(""));
    return v;
}
Value f_list(Interpreter&, Value& v, CallArgs&) {
    return Value::list(items_of(v));
}
Value f_string(Interpreter&, Value& v, CallArgs&) {
    return Value(v.str());
}
Value f_int(Interpreter&, Value& v, CallArgs& a) {
    Value def = a.get(0, "default", Value(0));
    int base = static_cast<int>(a.get(1, "base", Value(10)).to_int());
    if (v.is_int()) return v;
    if (v.is_bool()) return Value(v.to_int());
    if (v.is_float()) {
        if (!std::isfinite(v.as_float())) return def;
        return Value(static_cast<int64_t>(v.as_float()));
    }
    if (v.is_string()) {
        std::string s = str_strip(v.as_string(), nullptr, true, true);
        s.erase(std::remove(s.begin(), s.end(), '_'), s.end());
        if (s.empty()) return def;
        try {
            size_t used = 0;
            int64_t r = std::stoll(s, &used, base);
            if (used == s.size()) return Value(r);
        } catch (const std::exception&) {
        }
        try {
            size_t used = 0;
            double d = std::stod(s, &used);
            if (used == s.size() && std::isfinite(d)) return Value(static_cast<int64_t>(d));
        } catch (const std::exception&) {
        }
    }
    return def;
}
Value f_float(Interpreter&, Value& v, CallArgs& a) {
    Value def = a.get(0, "default", Value(0.0));
    if (v.is_number()) return Value(v.to_double());
    if (v.is_string()) {
        std::string s = str_strip(v.as_string(), nullptr, true, true);
        try {
            size_t used = 0;
            double d = std::stod(s, &used);
            if (used == s.size()) return Value(d);
        } catch (const std::exception&) {
        }
    }
    return def;
}
Value f_round(Interpreter&, Value& v, CallArgs& a) {
    int64_t precision = a.get(0, "precision", Value(0)).to_int();
    std::string method = a.get(1, "method", Value("common")).str();
    if (method != "common" && method != "ceil" && method != "floor")
        raise("FilterArgumentError", "method must be common, ceil or floor");
    double x = v.to_double();
    double m = std::pow(10.0, static_cast<double>(std::clamp<int64_t>(precision, -308, 308)));
    if (method == "ceil") return Value(std::ceil(x * m) / m);
    if (method == "floor") return Value(std::floor(x * m) / m);
    // Python's round(): half to even; ints stay ints.
    if (v.is_int() || v.is_bool()) {
        if (precision >= 0) return Value(v.to_int());
        return Value(static_cast<int64_t>(std::nearbyint(x * m) / m));
    }
    if (precision <= 0) return Value(std::nearbyint(x * m) / m);
    char buf[512];
    std::snprintf(buf, sizeof buf, "%.*f", static_cast<int>(std::min<int64_t>(precision, 300)), x);
    return Value(std::stod(buf));
}
Value f_abs(Interpreter&, Value& v, CallArgs&) {
    if (v.is_float()) return Value(std::fabs(v.as_float()));
    int64_t i = v.to_int();
    if (i == INT64_MIN) raise("OverflowError", "integer result too large");
    return Value(i < 0 ? -i : i);
}
Value f_items(Interpreter&, Value& v, CallArgs&) {
    if (v.is_undefined()) return Value::generator({});
    if (!v.is_dict()) raise("TypeError", "Can only get item pairs from a mapping.");
    std::vector<Value> out;
    for (const auto& [k, val] : v.as_dict()->items) out.push_back(Value::tuple({k, val}));
    return Value::generator(std::move(out));
}
Value f_dictsort(Interpreter&, Value& v, CallArgs& a) {
    bool cs = a.get(0, "case_sensitive", Value(false)).truthy();
    std::string by = a.get(1, "by", Value("key")).str();
    bool rev = a.get(2, "reverse", Value(false)).truthy();
    if (!v.is_dict()) raise("TypeError", "dictsort expects a mapping");
    std::vector<Value> pairs;
    for (const auto& [k, val] : v.as_dict()->items) pairs.push_back(Value::tuple({k, val}));
    size_t pos = by == "value" ? 1 : 0;
    std::stable_sort(pairs.begin(), pairs.end(), [&](const Value& x, const Value& y) {
        int c = compare_values(ignore_case(x.as_list()->items[pos], cs),
                               ignore_case(y.as_list()->items[pos], cs));
        return rev ? c > 0 : c < 0;
    });
    return Value::list(std::move(pairs));
}

std::vector<Value> test_args(CallArgs& a, size_t from) {
    return std::vector<Value>(
        a.args.begin() + static_cast<std::ptrdiff_t>(std::min(from, a.args.size())), a.args.end());
}

Value select_impl(Interpreter& in, Value& v, CallArgs& a, bool by_attr, bool keep) {
    size_t next = 0;
    Value attr;
    if (by_attr) attr = a.get(next++, "attribute");
    std::string test;
    if (next < a.args.size()) test = a.args[next++].str();
    CallArgs targs;
    targs.args = test_args(a, next);
    std::vector<Value> out;
    if (!v.truthy()) return Value::generator({});  // jinja2 skips falsy sequences (None too)
    for (const auto& item : items_of(v)) {
        Value x = by_attr ? get_path(item, attr) : item;
        bool ok = test.empty() ? x.truthy() : in.apply_test(test, x, targs);
        if (ok == keep) out.push_back(item);
    }
    return Value::generator(std::move(out));
}
Value f_select(Interpreter& in, Value& v, CallArgs& a) {
    return select_impl(in, v, a, false, true);
}
Value f_reject(Interpreter& in, Value& v, CallArgs& a) {
    return select_impl(in, v, a, false, false);
}
Value f_selectattr(Interpreter& in, Value& v, CallArgs& a) {
    return select_impl(in, v, a, true, true);
}
Value f_rejectattr(Interpreter& in, Value& v, CallArgs& a) {
    return select_impl(in, v, a, true, false);
}

Value f_map(Interpreter& in, Value& v, CallArgs& a) {
    std::vector<Value> out;
    if (!v.truthy()) return Value::generator({});  // jinja2 skips falsy sequences (None too)
    bool has_attr = false;
    Value attr, def;
    for (const auto& [k, val] : a.kwargs) {
        if (k == "attribute") {
            has_attr = true;
            attr = val;
        } else if (k == "default") {
            def = val;
        }
    }
    if (has_attr) {
        for (const auto& item : items_of(v)) {
            Value x = get_path(item, attr);
            out.push_back(x.is_undefined() && a.has(99, "default") ? def : x);
        }
        return Value::generator(std::move(out));
    }
    if (a.args.empty()) raise("FilterArgumentError", "map requires a filter argument");
    std::string name = a.args[0].str();
    CallArgs fargs;
    fargs.args = test_args(a, 1);
    fargs.kwargs = a.kwargs;
    for (const auto& item : items_of(v)) {
        CallArgs copy = fargs;
        out.push_back(in.apply_filter(name, item, copy, 0));
    }
    return Value::generator(std::move(out));
}

Value f_unique(Interpreter&, Value& v, CallArgs& a) {
    bool cs = a.get(0, "case_sensitive", Value(false)).truthy();
    Value attr = a.get(1, "attribute", Value(None{}));
    std::vector<Value> out, seen;
    for (const auto& item : items_of(v)) {
        Value key = ignore_case(attr.is_none() ? item : get_path(item, attr), cs);
        bool dup = false;
        for (const auto& s : seen)
            if (values_equal(s, key)) dup = true;
        if (!dup) {
            seen.push_back(key);
            out.push_back(item);
        }
    }
    return Value::generator(std::move(out));
}

std::vector<std::string> split_lines(const std::string& s) {
    std::vector<std::string> lines;
    std::string cur;
    for (size_t i = 0; i < s.size(); i++) {
        if (s[i] == '\n' || s[i] == '\r') {
            if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') i++;
            lines.push_back(cur);
            cur.clear();
        } else {
            cur += s[i];
        }
    }
    if (!cur.empty()) lines.push_back(cur);
    return lines;
}

Value f_indent(Interpreter&, Value& v, CallArgs& a) {
    Value width = a.get(0, "width", Value(4));
    bool first = a.get(1, "first", Value(false)).truthy();
    bool blank = a.get(2, "blank", Value(false)).truthy();
    std::string ind;
    if (width.is_string()) {
        ind = width.as_string();
    } else {
        size_t n = static_cast<size_t>(std::max<int64_t>(0, width.to_int()));
        check_size(n);
        ind.assign(n, ' ');
    }
    auto lines = split_lines(v.str() + "\n");
    std::string rv;
    for (size_t i = 0; i < lines.size(); i++) {
        if (i > 0) rv += "\n";
        if (i > 0 && (blank || !lines[i].empty())) rv += ind;
        rv += lines[i];
        check_size(rv.size());
    }
    if (first) rv = ind + rv;
    return Value(std::move(rv));
}
Value f_safe(Interpreter&, Value& v, CallArgs&) {
    return Value::markup(v.str());
}
Value f_escape(Interpreter&, Value& v, CallArgs&) {
    if (v.is_markup()) return v;
    return Value::markup(html_escape(v.str()));
}
Value f_forceescape(Interpreter&, Value& v, CallArgs&) {
    return Value::markup(html_escape(v.str()));
}
Value f_wordcount(Interpreter&, Value& v, CallArgs&) {
    int64_t n = 0;
    bool in_word = false;
    for (unsigned char c : v.str()) {
        bool w = std::isalnum(c) || c == '_' || c >= 0x80;
        if (w && !in_word) n++;
        in_word = w;
    }
    return Value(n);
}
Value f_batch(Interpreter&, Value& v, CallArgs& a) {
    int64_t count = a.get(0, "linecount").to_int();
    if (count <= 0) raise("FilterArgumentError", "batch size must be positive");
    Value fill = a.get(1, "fill_with", Value(None{}));
    std::vector<Value> out, cur;
    for (const auto& item : items_of(v)) {
        cur.push_back(item);
        if (static_cast<int64_t>(cur.size()) == count) {
            out.push_back(Value::list(std::move(cur)));
            cur.clear();
        }
    }
    if (!cur.empty()) {
        check_size(static_cast<size_t>(count) * sizeof(Value));
        if (!fill.is_none())
            while (static_cast<int64_t>(cur.size()) < count) cur.push_back(fill);
        out.push_back(Value::list(std::move(cur)));
    }
    return Value::generator(std::move(out));
}
Value f_slice(Interpreter& in, Value& v, CallArgs& a) {
    int64_t slices = a.get(0, "slices").to_int();
    if (slices <= 0) raise("FilterArgumentError", "slice count must be positive");
    in.count_iterations(static_cast<uint64_t>(slices));
    Value fill = a.get(1, "fill_with", Value(None{}));
    auto seq = items_of(v);
    int64_t len = static_cast<int64_t>(seq.size());
    int64_t per = len / slices, extra = len % slices, offset = 0;
    std::vector<Value> out;
    for (int64_t i = 0; i < slices; i++) {
        int64_t start = offset + i * per;
        if (i < extra) offset++;
        int64_t end = offset + (i + 1) * per;
        std::vector<Value> part(seq.begin() + start, seq.begin() + end);
        if (!fill.is_none() && i >= extra) part.push_back(fill);
        out.push_back(Value::list(std::move(part)));
    }
    return Value::generator(std::move(out));
}
Value f_sum(Interpreter&, Value& v, CallArgs& a) {
    Value attr = a.get(0, "attribute", Value(None{}));
    Value total = a.get(1, "start", Value(0));
    for (const auto& item : items_of(v)) {
        Value x = attr.is_none() ? item : get_path(item, attr);
        if (total.is_number() && x.is_number()) {
            if (total.is_float() || x.is_float()) {
                total = Value(total.to_double() + x.to_double());
            } else {
                int64_t r;
                if (__builtin_add_overflow(total.to_int(), x.to_int(), &r))
                    raise("OverflowError", "integer result too large");
                total = Value(r);
            }
        } else {
            raise("TypeError", "unsupported operand type(s) for +: '" + total.type_name() +
                                   "' and '" + x.type_name() + "'");
        }
    }
    return total;
}
Value minmax(Value& v, CallArgs& a, bool want_max) {
    bool cs = a.get(0, "case_sensitive", Value(false)).truthy();
    Value attr = a.get(1, "attribute", Value(None{}));
    auto items = items_of(v);
    if (items.empty())
        return Value::undefined(std::string("No aggregated item, sequence was empty."));
    size_t best = 0;
    for (size_t i = 1; i < items.size(); i++) {
        Value x = ignore_case(attr.is_none() ? items[i] : get_path(items[i], attr), cs);
        Value b = ignore_case(attr.is_none() ? items[best] : get_path(items[best], attr), cs);
        int c = compare_values(x, b);
        if (want_max ? c > 0 : c < 0) best = i;
    }
    return items[best];
}
Value f_min(Interpreter&, Value& v, CallArgs& a) {
    return minmax(v, a, false);
}
Value f_max(Interpreter&, Value& v, CallArgs& a) {
    return minmax(v, a, true);
}
Value f_sort(Interpreter&, Value& v, CallArgs& a) {
    bool rev = a.get(0, "reverse", Value(false)).truthy();
    bool cs = a.get(1, "case_sensitive", Value(false)).truthy();
    Value attr = a.get(2, "attribute", Value(None{}));
    auto items = items_of(v);
    std::stable_sort(items.begin(), items.end(), [&](const Value& x, const Value& y) {
        int c = compare_values(ignore_case(attr.is_none() ? x : get_path(x, attr), cs),
                               ignore_case(attr.is_none() ? y : get_path(y, attr), cs));
        return rev ? c > 0 : c < 0;
    });
    return Value::list(std::move(items));
}
Value f_reverse(Interpreter&, Value& v, CallArgs&) {
    if (v.is_string()) {
        auto chars = utf8_chars(v.as_string());
        std::string out;
        for (auto it = chars.rbegin(); it != chars.rend(); ++it) out += *it;
        return Value(std::move(out));
    }
    auto items = items_of(v);
    std::reverse(items.begin(), items.end());
    return Value::generator(std::move(items));
}
Value f_center(Interpreter&, Value& v, CallArgs& a) {
    std::string s = v.str();
    int64_t width = a.get(0, "width", Value(80)).to_int();
    int64_t len = static_cast<int64_t>(utf8_length(s));
    if (width <= len) return Value(s);
    check_size(static_cast<size_t>(width));
    int64_t total = width - len;
    int64_t left = total / 2 + (total & width & 1);
    return Value(std::string(static_cast<size_t>(left), ' ') + s +
                 std::string(static_cast<size_t>(total - left), ' '));
}
Value f_attr(Interpreter&, Value& v, CallArgs& a) {
    return get_attr(v, a.get(0, "name").str());
}
Value f_format(Interpreter&, Value& v, CallArgs& a) {
    std::string fmt = v.str(), out;
    size_t k = 0;
    for (size_t i = 0; i < fmt.size(); i++) {
        if (fmt[i] != '%' || i + 1 >= fmt.size()) {
            out += fmt[i];
            continue;
        }
        char c = fmt[++i];
        if (c == '%') {
            out += '%';
        } else if (k < a.args.size()) {
            out += c == 'r' ? a.args[k].repr() : a.args[k].str();
            k++;
        } else {
            raise("TypeError", "not enough arguments for format string");
        }
    }
    return Value(std::move(out));
}
Value f_truncate(Interpreter&, Value& v, CallArgs& a) {
    std::string s = v.str();
    int64_t length = a.get(0, "length", Value(255)).to_int();
    bool killwords = a.get(1, "killwords", Value(false)).truthy();
    std::string end = a.get(2, "end", Value("...")).str();
    int64_t leeway = a.get(3, "leeway", Value(5)).to_int();
    auto chars = utf8_chars(s);
    int64_t n = static_cast<int64_t>(chars.size());
    if (n <= length + leeway) return Value(s);
    int64_t keep = std::max<int64_t>(0, length - static_cast<int64_t>(utf8_length(end)));
    std::string head;
    for (int64_t i = 0; i < keep; i++) head += chars[static_cast<size_t>(i)];
    if (!killwords) {
        size_t sp = head.rfind(' ');
        if (sp != std::string::npos) head.resize(sp);
    }
    return Value(head + end);
}

const std::map<std::string, FilterFn, std::less<>>& filter_table() {
    static const std::map<std::string, FilterFn, std::less<>> table = {
        {"tojson", f_tojson},
        {"trim", f_trim},
        {"upper", f_upper},
        {"lower", f_lower},
        {"title", f_title},
        {"capitalize", f_capitalize},
        {"replace", f_replace},
        {"length", f_length},
        {"count", f_length},
        {"first", f_first},
        {"last", f_last},
        {"join", f_join},
        {"default", f_default},
        {"d", f_default},
        {"list", f_list},
        {"string", f_string},
        {"int", f_int},
        {"float", f_float},
        {"round", f_round},
        {"abs", f_abs},
        {"items", f_items},
        {"dictsort", f_dictsort},
        {"selectattr", f_selectattr},
        {"rejectattr", f_rejectattr},
        {"map", f_map},
        {"select", f_select},
        {"reject", f_reject},
        {"unique", f_unique},
        {"indent", f_indent},
        {"safe", f_safe},
        {"e", f_escape},
        {"escape", f_escape},
        {"forceescape", f_forceescape},
        {"wordcount", f_wordcount},
        {"batch", f_batch},
        {"slice", f_slice},
        {"sum", f_sum},
        {"min", f_min},
        {"max", f_max},
        {"sort", f_sort},
        {"reverse", f_reverse},
        {"center", f_center},
        {"attr", f_attr},
        {"format", f_format},
        {"truncate", f_truncate},
    };
    return table;
}

}  // namespace

bool has_filter(const std::string& name) {
    return filter_table().count(name) != 0;
}

Value call_filter(Interpreter& in, const std::string& name, Value base, CallArgs& args) {
    return filter_table().find(name)->second(in, base, args);
}

}  // namespace lokal::jinja
