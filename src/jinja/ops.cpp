// Python-level operations on values: attribute and item access, slicing, iteration, `in`, len().
#include "jinja/interp.h"

#include <algorithm>
#include <optional>

namespace lokal::jinja {

namespace {

std::string object_name(const Value& obj) {
    return "'" + obj.type_name() + " object'";
}

Value missing_attr(const Value& obj, const std::string& name) {
    return Value::undefined(object_name(obj) + " has no attribute '" + name + "'");
}

// Normalizes a Python index; returns false when out of range.
bool normalize_index(int64_t& i, size_t n) {
    if (i < 0) i += static_cast<int64_t>(n);
    return i >= 0 && i < static_cast<int64_t>(n);
}

}  // namespace

Value get_attr(const Value& obj, const std::string& name) {
    obj.require_defined();
    if (obj.is_dict()) {
        const auto& d = *obj.as_dict();
        if (d.is_namespace || d.is_loop) {
            if (const Value* v = d.find(std::string_view(name))) return *v;
            return missing_attr(obj, name);
        }
        Value m = get_method(obj, name);
        if (!m.is_undefined() || !m.undefined_hint().empty()) return m;
        if (const Value* v = d.find(std::string_view(name))) return *v;
        return missing_attr(obj, name);
    }
    if (obj.is_string() || obj.is_list()) {
        Value m = get_method(obj, name);
        if (!m.is_undefined() || !m.undefined_hint().empty()) return m;
    }
    return missing_attr(obj, name);
}

Value get_item(const Value& obj, const Value& key) {
    obj.require_defined();
    if (obj.is_dict()) {
        if (const Value* v = obj.as_dict()->find(key)) return *v;
        if (key.is_string()) return get_attr(obj, key.as_string());
        return Value::undefined(object_name(obj) + " has no element " + key.repr());
    }
    if (obj.is_list() && !obj.is_generator()) {
        if (key.is_int() || key.is_bool()) {
            int64_t i = key.to_int();
            const auto& items = obj.as_list()->items;
            if (normalize_index(i, items.size())) return items[static_cast<size_t>(i)];
            return Value::undefined(object_name(obj) + " has no element " + key.repr());
        }
    }
    if (obj.is_string() && (key.is_int() || key.is_bool())) {
        auto chars = utf8_chars(obj.as_string());
        int64_t i = key.to_int();
        if (normalize_index(i, chars.size())) return Value(chars[static_cast<size_t>(i)]);
        return Value::undefined(object_name(obj) + " has no element " + key.repr());
    }
    if (key.is_string()) return get_attr(obj, key.as_string());
    return Value::undefined(object_name(obj) + " has no element " + key.repr());
}

Value slice_value(const Value& obj, const Value& start, const Value& stop, const Value& step) {
    obj.require_defined();
    auto opt = [](const Value& v) -> std::optional<int64_t> {
        if (v.is_undefined() || v.is_none()) return std::nullopt;
        return v.to_int();
    };
    int64_t st = opt(step).value_or(1);
    if (st == 0) raise("ValueError", "slice step cannot be zero");
    std::vector<Value> items;
    std::vector<std::string> chars;
    bool is_str = obj.is_string();
    size_t n;
    if (is_str) {
        chars = utf8_chars(obj.as_string());
        n = chars.size();
    } else if (obj.is_list() && !obj.is_generator()) {
        n = obj.as_list()->items.size();
    } else {
        raise("TypeError", "'" + obj.type_name() + "' object is not subscriptable");
    }
    const int64_t len = static_cast<int64_t>(n);
    auto clamp = [&](std::optional<int64_t> v, int64_t def) {
        if (!v) return def;
        int64_t x = *v;
        if (x < 0) x += len;
        if (st > 0) return std::clamp<int64_t>(x, 0, len);
        return std::clamp<int64_t>(x, -1, len - 1);
    };
    int64_t a = clamp(opt(start), st > 0 ? 0 : len - 1);
    int64_t b = clamp(opt(stop), st > 0 ? len : -1);
    std::string s;
    for (int64_t i = a; st > 0 ? i < b : i > b; i += st) {
        if (is_str) {
            s += chars[static_cast<size_t>(i)];
        } else {
            items.push_back(obj.as_list()->items[static_cast<size_t>(i)]);
        }
    }
    if (is_str) return Value(std::move(s));
    return obj.is_tuple() ? Value::tuple(std::move(items)) : Value::list(std::move(items));
}

std::vector<Value> iterate(const Value& v) {
    check_deadline();
    switch (v.kind()) {
        case Value::Kind::Undefined:
            return {};
        case Value::Kind::List:
            return v.as_list()->items;
        case Value::Kind::Dict: {
            std::vector<Value> keys;
            for (const auto& kv : v.as_dict()->items) keys.push_back(kv.first);
            return keys;
        }
        case Value::Kind::String: {
            std::vector<Value> out;
            for (auto& c : utf8_chars(v.as_string())) out.emplace_back(std::move(c));
            return out;
        }
        default:
            raise("TypeError", "'" + v.type_name() + "' object is not iterable");
    }
}

bool contains(const Value& container, const Value& item) {
    if (container.is_undefined()) return false;  // jinja2's Undefined iterates as empty
    if (container.is_string()) {
        if (!item.is_string()) {
            item.require_defined();
            raise("TypeError",
                  "'in <string>' requires string as left operand, not " + item.type_name());
        }
        return container.as_string().find(item.as_string()) != std::string::npos;
    }
    if (container.is_dict()) return container.as_dict()->find(item) != nullptr;
    if (container.is_list()) {
        for (const auto& x : container.as_list()->items)
            if (values_equal(x, item)) return true;
        return false;
    }
    container.require_defined();
    raise("TypeError", "argument of type '" + container.type_name() + "' is not iterable");
}

Value length_of(const Value& v) {
    switch (v.kind()) {
        case Value::Kind::Undefined:
            return Value(0);
        case Value::Kind::String:
            return Value(static_cast<int64_t>(utf8_length(v.as_string())));
        case Value::Kind::List:
            if (v.is_generator()) raise("TypeError", "object of type 'generator' has no len()");
            return Value(static_cast<int64_t>(v.as_list()->items.size()));
        case Value::Kind::Dict:
            return Value(static_cast<int64_t>(v.as_dict()->items.size()));
        default:
            raise("TypeError", "object of type '" + v.type_name() + "' has no len()");
    }
}

}  // namespace lokal::jinja
