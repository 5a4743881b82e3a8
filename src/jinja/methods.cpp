// Python methods of list and dict that templates call (`d.items()`, `l.index(x)`, ...), and the
// lookup of a method of any value. Mutating list/dict methods are refused like in jinja2's
// ImmutableSandboxedEnvironment.
#include <algorithm>
#include <array>

#include "jinja/interp.h"
#include "jinja/methods.h"

namespace lokal::jinja {

namespace {

Value unsafe(const Value& obj, const std::string& name) {
    return Value::undefined("access to attribute '" + name + "' of '" + obj.type_name() +
                            "' object is unsafe.");
}

bool is_one_of(std::span<const std::string_view> names, const std::string& name) {
    return std::find(names.begin(), names.end(), name) != names.end();
}

Value l_index(const Value& v, CallArgs& a) {
    Value x = a.get(0, "value");
    const auto& items = v.as_list()->items;
    for (size_t i = 0; i < items.size(); i++)
        if (values_equal(items[i], x)) return Value(static_cast<int64_t>(i));
    raise("ValueError", x.repr() + " is not in list");
}
Value l_count(const Value& v, CallArgs& a) {
    Value x = a.get(0, "value");
    int64_t n = 0;
    for (const auto& item : v.as_list()->items) n += values_equal(item, x);
    return Value(n);
}
Value l_copy(const Value& v, CallArgs&) {
    return Value::list(v.as_list()->items);
}

constexpr auto kListMutators = std::to_array<std::string_view>(
    {"append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse"});
constexpr auto kListMethods = std::to_array<MethodRow>({
    {"index", l_index},
    {"count", l_count},
    {"copy", l_copy},
});

Value list_method(const Value& self, const std::string& name) {
    if (is_one_of(kListMutators, name)) return unsafe(self, name);
    if (self.is_generator()) return Value();
    return bind_method(kListMethods, self, name);
}

Value d_items(const Value& v, CallArgs&) {
    std::vector<Value> out;
    for (const auto& [k, val] : v.as_dict()->items) out.push_back(Value::tuple({k, val}));
    return Value::list(std::move(out));
}
Value d_keys(const Value& v, CallArgs&) {
    std::vector<Value> out;
    for (const auto& [k, val] : v.as_dict()->items) out.push_back(k);
    return Value::list(std::move(out));
}
Value d_values(const Value& v, CallArgs&) {
    std::vector<Value> out;
    for (const auto& [k, val] : v.as_dict()->items) out.push_back(val);
    return Value::list(std::move(out));
}
Value d_get(const Value& v, CallArgs& a) {
    if (const Value* x = v.as_dict()->find(a.get(0, "key"))) return *x;
    return a.get(1, "default", Value(None{}));
}
Value d_copy(const Value& v, CallArgs&) {
    auto d = std::make_shared<DictData>();
    d->items = v.as_dict()->items;
    return Value(std::move(d));
}

constexpr auto kDictMutators =
    std::to_array<std::string_view>({"update", "pop", "popitem", "setdefault", "clear"});
constexpr auto kDictMethods = std::to_array<MethodRow>({
    {"items", d_items},
    {"keys", d_keys},
    {"values", d_values},
    {"get", d_get},
    {"copy", d_copy},
});

Value dict_method(const Value& self, const std::string& name) {
    if (is_one_of(kDictMutators, name)) return unsafe(self, name);
    return bind_method(kDictMethods, self, name);
}

}  // namespace

Value bind_method(std::span<const MethodRow> table, const Value& self, const std::string& name) {
    for (const MethodRow& row : table) {
        if (row.name == name)
            return Value::function(name, [self, fn = row.fn](CallArgs& a) { return fn(self, a); });
    }
    return Value();
}

Value get_method(const Value& obj, const std::string& name) {
    if (!name.empty() && name[0] == '_') return unsafe(obj, name);
    if (obj.is_string()) return string_method(obj, name);
    if (obj.is_list()) return list_method(obj, name);
    if (obj.is_dict()) return dict_method(obj, name);
    return Value();
}

}  // namespace lokal::jinja
