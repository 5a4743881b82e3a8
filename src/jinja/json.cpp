// Python's json.dumps(x, ensure_ascii, indent, separators, sort_keys), byte for byte.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "jinja/interp.h"

namespace lokal::jinja {

namespace {

uint32_t decode_utf8(const std::string& s, size_t& i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    int n = c < 0x80 ? 0 : c < 0xE0 ? 1 : c < 0xF0 ? 2 : 3;
    uint32_t cp = n == 0 ? c : n == 1 ? (c & 0x1F) : n == 2 ? (c & 0x0F) : (c & 0x07);
    for (int k = 0; k < n && i + 1 < s.size(); k++)
        cp = (cp << 6) | (static_cast<unsigned char>(s[++i]) & 0x3F);
    i++;
    return cp;
}

void escape_string(std::string& out, const std::string& s, bool ensure_ascii) {
    out += '"';
    for (size_t i = 0; i < s.size();) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        char buf[16];
        if (c == '"') {
            out += "\\\"";
        } else if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c == '\b') {
            out += "\\b";
        } else if (c == '\f') {
            out += "\\f";
        } else if (c < 0x20) {
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
        } else if (c >= 0x80 && ensure_ascii) {
            uint32_t cp = decode_utf8(s, i);
            if (cp >= 0x10000) {
                cp -= 0x10000;
                std::snprintf(buf, sizeof buf, "\\u%04x\\u%04x", 0xD800 + (cp >> 10),
                              0xDC00 + (cp & 0x3FF));
            } else {
                std::snprintf(buf, sizeof buf, "\\u%04x", cp);
            }
            out += buf;
            continue;
        } else {
            out += static_cast<char>(c);
        }
        i++;
    }
    out += '"';
}

struct Dumper {
    std::string indent;  // empty + has_indent=false means single-line
    bool has_indent;
    bool ensure_ascii;
    std::string item_sep, key_sep;
    bool sort_keys;
    std::string out;
    int depth = 0;

    void newline(int level) {
        out += '\n';
        for (int i = 0; i < level; i++) out += indent;
    }

    void key(const Value& k) {
        if (k.is_string()) {
            escape_string(out, k.as_string(), ensure_ascii);
        } else if (k.is_bool()) {
            out += k.as_bool() ? "\"true\"" : "\"false\"";
        } else if (k.is_none()) {
            out += "\"null\"";
        } else if (k.is_int()) {
            out += "\"" + std::to_string(k.as_int()) + "\"";
        } else if (k.is_float()) {
            out += "\"" + number(k.as_float()) + "\"";
        } else {
            raise("TypeError", "keys must be str, int, float, bool or None, not " + k.type_name());
        }
    }

    static std::string number(double d) {
        if (std::isnan(d)) return "NaN";
        if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
        return format_float(d);
    }

    void dump(const Value& v) {
        check_size(out.size());
        if (depth > 500)
            raise("RecursionError",
                  "maximum recursion depth exceeded while encoding a JSON object");
        switch (v.kind()) {
            case Value::Kind::None:
                out += "null";
                return;
            case Value::Kind::Bool:
                out += v.as_bool() ? "true" : "false";
                return;
            case Value::Kind::Int:
                out += std::to_string(v.as_int());
                return;
            case Value::Kind::Float:
                out += number(v.as_float());
                return;
            case Value::Kind::String:
                escape_string(out, v.as_string(), ensure_ascii);
                return;
            case Value::Kind::List: {
                if (v.is_generator())
                    raise("TypeError", "Object of type generator is not JSON serializable");
                const auto& items = v.as_list()->items;
                if (items.empty()) {
                    out += "[]";
                    return;
                }
                out += '[';
                depth++;
                for (size_t i = 0; i < items.size(); i++) {
                    if (i) out += item_sep;
                    if (has_indent) newline(depth);
                    dump(items[i]);
                }
                depth--;
                if (has_indent) newline(depth);
                out += ']';
                return;
            }
            case Value::Kind::Dict: {
                if (v.is_namespace() || v.as_dict()->is_loop)
                    raise("TypeError",
                          "Object of type " + v.type_name() + " is not JSON serializable");
                std::vector<const std::pair<Value, Value>*> items;
                for (const auto& kv : v.as_dict()->items) items.push_back(&kv);
                if (items.empty()) {
                    out += "{}";
                    return;
                }
                if (sort_keys)
                    std::stable_sort(items.begin(), items.end(), [](auto* a, auto* b) {
                        return compare_values(a->first, b->first) < 0;
                    });
                out += '{';
                depth++;
                for (size_t i = 0; i < items.size(); i++) {
                    if (i) out += item_sep;
                    if (has_indent) newline(depth);
                    key(items[i]->first);
                    out += key_sep;
                    dump(items[i]->second);
                }
                depth--;
                if (has_indent) newline(depth);
                out += '}';
                return;
            }
            default:
                raise("TypeError", "Object of type " + v.type_name() + " is not JSON serializable");
        }
    }
};

}  // namespace

std::string to_json_text(const Value& v, const Value& indent, bool ensure_ascii,
                         const std::string& item_sep, const std::string& key_sep, bool sort_keys) {
    Dumper d;
    d.has_indent = !indent.is_none() && !indent.is_undefined();
    if (d.has_indent) {
        if (indent.is_string()) {
            d.indent = indent.as_string();
        } else {
            d.indent =
                std::string(static_cast<size_t>(std::clamp<int64_t>(indent.to_int(), 0, 64)), ' ');
        }
    }
    d.ensure_ascii = ensure_ascii;
    d.item_sep = item_sep;
    d.key_sep = key_sep;
    d.sort_keys = sort_keys;
    d.dump(v);
    return std::move(d.out);
}

}  // namespace lokal::jinja
