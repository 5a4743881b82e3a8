#include "jinja/value.h"

#include <charconv>
#include <cmath>
#include <cstdio>

#include "base/error.h"

namespace lokal::jinja {

void raise(std::string_view type, std::string_view message) {
    throw Error(std::string(type) + ": " + std::string(message));
}

namespace {
thread_local size_t size_limit = SIZE_MAX;
thread_local std::chrono::steady_clock::time_point deadline_at =
    std::chrono::steady_clock::time_point::max();
constexpr int kMaxNesting = 256;  // nesting of values printed or converted
}  // namespace

void set_render_budget(size_t max_bytes, std::chrono::steady_clock::time_point deadline) {
    size_limit = max_bytes;
    deadline_at = deadline;
}

void check_deadline() {
    if (std::chrono::steady_clock::now() > deadline_at)
        raise("SecurityError", "template rendering took longer than its time limit");
}

void check_size(size_t bytes) {
    if (bytes > size_limit)
        raise("SecurityError", "template output or value exceeds the limit of " +
                                   std::to_string(size_limit) + " bytes");
}

Value Value::list(std::vector<Value> items) {
    auto l = std::make_shared<ListData>();
    l->items = std::move(items);
    return Value(std::move(l));
}

Value Value::tuple(std::vector<Value> items) {
    auto l = std::make_shared<ListData>();
    l->items = std::move(items);
    l->tuple = true;
    return Value(std::move(l));
}

Value Value::generator(std::vector<Value> items) {
    auto l = std::make_shared<ListData>();
    l->items = std::move(items);
    l->generator = true;
    return Value(std::move(l));
}

Value Value::dict() {
    return Value(std::make_shared<DictData>());
}

Value Value::namespace_() {
    auto d = std::make_shared<DictData>();
    d->is_namespace = true;
    return Value(std::move(d));
}

Value Value::function(std::string name, std::function<Value(CallArgs&)> fn) {
    return Value(std::make_shared<Function>(Function{std::move(name), std::move(fn)}));
}

bool Value::is_generator() const {
    return is_list() && as_list()->generator;
}
bool Value::is_tuple() const {
    return is_list() && as_list()->tuple;
}
bool Value::is_namespace() const {
    return is_dict() && as_dict()->is_namespace;
}

double Value::to_double() const {
    switch (kind()) {
        case Kind::Bool:
            return as_bool() ? 1.0 : 0.0;
        case Kind::Int:
            return static_cast<double>(as_int());
        case Kind::Float:
            return as_float();
        default:
            raise("TypeError", "expected a number, got " + type_name());
    }
}

int64_t Value::to_int() const {
    if (is_bool()) return as_bool() ? 1 : 0;
    if (is_int()) return as_int();
    raise("TypeError", "'" + type_name() + "' object cannot be interpreted as an integer");
}

bool Value::truthy() const {
    switch (kind()) {
        case Kind::Undefined:
        case Kind::None:
            return false;
        case Kind::Bool:
            return as_bool();
        case Kind::Int:
            return as_int() != 0;
        case Kind::Float:
            return as_float() != 0.0;
        case Kind::String:
            return !as_string().empty();
        case Kind::List:
            return as_list()->generator || !as_list()->items.empty();
        case Kind::Dict:
            return as_dict()->is_namespace || !as_dict()->items.empty();
        case Kind::Function:
            return true;
    }
    return false;
}

void Value::require_defined() const {
    if (is_undefined()) raise("UndefinedError", undefined_hint());
}

std::string format_float(double d) {
    if (std::isnan(d)) return "nan";
    if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
    if (d == 0) return std::signbit(d) ? "-0.0" : "0.0";
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
    std::string sci(buf, res.ptr);
    // sci looks like "-1.2345e+05": split into sign, digits and exponent.
    bool neg = sci[0] == '-';
    if (neg) sci.erase(0, 1);
    size_t e = sci.find('e');
    int exp = std::stoi(sci.substr(e + 1));
    std::string digits;
    for (size_t i = 0; i < e; i++)
        if (sci[i] != '.') digits += sci[i];
    std::string out = neg ? "-" : "";
    if (exp >= -4 && exp < 16) {  // Python switches to exponent form outside [1e-4, 1e16)
        if (exp < 0) {
            out += "0." + std::string(static_cast<size_t>(-exp - 1), '0') + digits;
        } else if (static_cast<size_t>(exp) + 1 >= digits.size()) {
            out += digits + std::string(static_cast<size_t>(exp) + 1 - digits.size(), '0') + ".0";
        } else {
            out += digits.substr(0, static_cast<size_t>(exp) + 1) + "." +
                   digits.substr(static_cast<size_t>(exp) + 1);
        }
        return out;
    }
    out += digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char eb[16];
    std::snprintf(eb, sizeof eb, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    return out + eb;
}

static std::string repr_string(const std::string& s) {
    bool has_single = s.find('\'') != std::string::npos;
    bool has_double = s.find('"') != std::string::npos;
    char q = (has_single && !has_double) ? '"' : '\'';
    std::string out(1, q);
    for (unsigned char c : s) {
        if (c == static_cast<unsigned char>(q) || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c < 0x20 || c == 0x7f) {
            char b[8];
            std::snprintf(b, sizeof b, "\\x%02x", c);
            out += b;
        } else {
            out += static_cast<char>(c);
        }
    }
    out += q;
    return out;
}

std::string Value::str() const {
    switch (kind()) {
        case Kind::Undefined:
            return "";
        case Kind::String:
            return as_string();
        default:
            return repr();
    }
}

std::string Value::repr() const {
    std::string out;
    repr_into(out, 0);
    return out;
}

void Value::repr_into(std::string& out, int depth) const {
    if (depth > kMaxNesting) raise("RecursionError", "maximum recursion depth exceeded in repr");
    switch (kind()) {
        case Kind::Undefined:
            return;
        case Kind::None:
            out += "None";
            return;
        case Kind::Bool:
            out += as_bool() ? "True" : "False";
            return;
        case Kind::Int:
            out += std::to_string(as_int());
            return;
        case Kind::Float:
            out += format_float(as_float());
            return;
        case Kind::String:
            out += repr_string(as_string());
            return;
        case Kind::List: {
            const auto& l = *as_list();
            if (l.generator) {
                out += "<generator object>";
                return;
            }
            out += l.tuple ? "(" : "[";
            for (size_t i = 0; i < l.items.size(); i++) {
                if (i) out += ", ";
                l.items[i].repr_into(out, depth + 1);
                check_size(out.size());
            }
            if (l.tuple && l.items.size() == 1) out += ",";
            out += l.tuple ? ")" : "]";
            return;
        }
        case Kind::Dict: {
            const auto& d = *as_dict();
            out += d.is_namespace ? "<Namespace {" : "{";
            for (size_t i = 0; i < d.items.size(); i++) {
                if (i) out += ", ";
                d.items[i].first.repr_into(out, depth + 1);
                out += ": ";
                d.items[i].second.repr_into(out, depth + 1);
                check_size(out.size());
            }
            out += d.is_namespace ? "}>" : "}";
            return;
        }
        case Kind::Function:
            out += "<function " + as_function()->name + ">";
            return;
    }
}

std::string Value::type_name() const {
    switch (kind()) {
        case Kind::Undefined:
            return "Undefined";
        case Kind::None:
            return "NoneType";
        case Kind::Bool:
            return "bool";
        case Kind::Int:
            return "int";
        case Kind::Float:
            return "float";
        case Kind::String:
            return "str";
        case Kind::List:
            return as_list()->generator ? "generator" : as_list()->tuple ? "tuple" : "list";
        case Kind::Dict:
            return as_dict()->is_namespace ? "Namespace" : "dict";
        case Kind::Function:
            return "function";
    }
    return "object";
}

namespace {
Value from_json_at(const nlohmann::ordered_json& j, int depth);
}

Value Value::from_json(const nlohmann::ordered_json& j) {
    return from_json_at(j, 0);
}

namespace {
Value from_json_at(const nlohmann::ordered_json& j, int depth) {
    if (depth > kMaxNesting) raise("ValueError", "template input is nested too deeply");
    switch (j.type()) {
        case nlohmann::ordered_json::value_t::null:
            return Value(None{});
        case nlohmann::ordered_json::value_t::boolean:
            return Value(j.get<bool>());
        case nlohmann::ordered_json::value_t::number_integer:
            return Value(j.get<int64_t>());
        case nlohmann::ordered_json::value_t::number_unsigned: {
            auto u = j.get<uint64_t>();
            if (u > static_cast<uint64_t>(INT64_MAX)) return Value(static_cast<double>(u));
            return Value(static_cast<int64_t>(u));
        }
        case nlohmann::ordered_json::value_t::number_float:
            return Value(j.get<double>());
        case nlohmann::ordered_json::value_t::string:
            return Value(j.get<std::string>());
        case nlohmann::ordered_json::value_t::array: {
            std::vector<Value> items;
            items.reserve(j.size());
            for (const auto& e : j) items.push_back(from_json_at(e, depth + 1));
            return Value::list(std::move(items));
        }
        case nlohmann::ordered_json::value_t::object: {
            auto d = std::make_shared<DictData>();
            d->items.reserve(j.size());
            for (const auto& [k, v] : j.items())
                d->items.emplace_back(Value(k), from_json_at(v, depth + 1));
            return Value(std::move(d));
        }
        default:
            return Value(None{});
    }
}
}  // namespace

nlohmann::ordered_json Value::to_json() const {
    switch (kind()) {
        case Kind::None:
            return nullptr;
        case Kind::Bool:
            return as_bool();
        case Kind::Int:
            return as_int();
        case Kind::Float:
            return as_float();
        case Kind::String:
            return as_string();
        case Kind::List: {
            if (as_list()->generator)
                raise("TypeError", "Object of type generator is not JSON serializable");
            auto arr = nlohmann::ordered_json::array();
            for (const auto& v : as_list()->items) arr.push_back(v.to_json());
            return arr;
        }
        case Kind::Dict: {
            auto obj = nlohmann::ordered_json::object();
            for (const auto& [k, v] : as_dict()->items)
                obj[k.is_string() ? k.as_string() : k.repr()] = v.to_json();
            return obj;
        }
        default:
            raise("TypeError", "Object of type " + type_name() + " is not JSON serializable");
    }
}

const Value* DictData::find(const Value& key) const {
    for (const auto& kv : items)
        if (values_equal(kv.first, key)) return &kv.second;
    return nullptr;
}

Value* DictData::find(const Value& key) {
    for (auto& kv : items)
        if (values_equal(kv.first, key)) return &kv.second;
    return nullptr;
}

const Value* DictData::find(std::string_view key) const {
    for (const auto& kv : items)
        if (kv.first.is_string() && kv.first.as_string() == key) return &kv.second;
    return nullptr;
}

void DictData::set(const Value& key, Value v) {
    if (Value* slot = find(key)) {
        *slot = std::move(v);
    } else {
        items.emplace_back(key, std::move(v));
    }
}

Value CallArgs::get(size_t i, std::string_view name, Value def) const {
    for (const auto& [k, v] : kwargs)
        if (k == name) return v;
    if (i < args.size()) return args[i];
    return def;
}

bool CallArgs::has(size_t i, std::string_view name) const {
    for (const auto& kv : kwargs)
        if (kv.first == name) return true;
    return i < args.size();
}

bool values_equal(const Value& a, const Value& b) {
    using K = Value::Kind;
    if (a.is_number() && b.is_number()) {
        if (a.is_float() || b.is_float()) return a.to_double() == b.to_double();
        return a.to_int() == b.to_int();
    }
    if (a.kind() != b.kind()) return false;
    switch (a.kind()) {
        case K::Undefined:
        case K::None:
            return true;
        case K::String:
            return a.as_string() == b.as_string();
        case K::List: {
            const auto& x = *a.as_list();
            const auto& y = *b.as_list();
            if (x.generator || y.generator) return &x == &y;
            if (x.tuple != y.tuple || x.items.size() != y.items.size()) return false;
            for (size_t i = 0; i < x.items.size(); i++)
                if (!values_equal(x.items[i], y.items[i])) return false;
            return true;
        }
        case K::Dict: {
            const auto& x = *a.as_dict();
            const auto& y = *b.as_dict();
            if (x.is_namespace || y.is_namespace) return &x == &y;
            if (x.items.size() != y.items.size()) return false;
            for (const auto& [k, v] : x.items) {
                const Value* o = y.find(k);
                if (!o || !values_equal(v, *o)) return false;
            }
            return true;
        }
        case K::Function:
            return a.as_function() == b.as_function();
        default:
            return false;
    }
}

int compare_values(const Value& a, const Value& b) {
    if (a.is_number() && b.is_number()) {
        if (a.is_float() || b.is_float()) {
            double x = a.to_double(), y = b.to_double();
            return x < y ? -1 : x > y ? 1 : 0;
        }
        int64_t x = a.to_int(), y = b.to_int();
        return x < y ? -1 : x > y ? 1 : 0;
    }
    if (a.is_string() && b.is_string()) {
        int c = a.as_string().compare(b.as_string());
        return c < 0 ? -1 : c > 0 ? 1 : 0;
    }
    if (a.is_list() && b.is_list() && !a.is_generator() && !b.is_generator()) {
        const auto& x = a.as_list()->items;
        const auto& y = b.as_list()->items;
        for (size_t i = 0; i < x.size() && i < y.size(); i++) {
            if (!values_equal(x[i], y[i])) return compare_values(x[i], y[i]);
        }
        return x.size() < y.size() ? -1 : x.size() > y.size() ? 1 : 0;
    }
    a.require_defined();
    b.require_defined();
    raise("TypeError", "'<' not supported between instances of '" + a.type_name() + "' and '" +
                           b.type_name() + "'");
}

size_t utf8_length(std::string_view s) {
    size_t n = 0;
    for (unsigned char c : s)
        if ((c & 0xC0) != 0x80) n++;
    return n;
}

std::vector<std::string> utf8_chars(std::string_view s) {
    std::vector<std::string> out;
    for (size_t i = 0; i < s.size();) {
        size_t j = i + 1;
        while (j < s.size() && (static_cast<unsigned char>(s[j]) & 0xC0) == 0x80) j++;
        out.emplace_back(s.substr(i, j - i));
        i = j;
    }
    return out;
}

}  // namespace lokal::jinja
