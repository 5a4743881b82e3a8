// Values of the template language: Python-like dynamic values (undefined, None, bool, int,
// float, str, list/tuple, ordered dict, namespace, callables) with Python's semantics for
// truthiness, equality, ordering and str()/repr().
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

namespace lokal::jinja {

class Value;
struct ListData;
struct DictData;
struct Function;
using ListPtr = std::shared_ptr<ListData>;
using DictPtr = std::shared_ptr<DictData>;
using FuncPtr = std::shared_ptr<Function>;

struct Undefined {
    std::string hint;  // the message raised when the value is used in a way that needs it
};
struct None {};

class Value {
  public:
    enum class Kind : uint8_t { Undefined, None, Bool, Int, Float, String, List, Dict, Function };

    Value() : v_(Undefined{}) {}
    Value(None) : v_(None{}) {}
    Value(bool b) : v_(b) {}
    Value(int i) : v_(int64_t{i}) {}
    Value(int64_t i) : v_(i) {}
    Value(double d) : v_(d) {}
    Value(std::string s) : v_(std::move(s)) {}
    Value(std::string_view s) : v_(std::string(s)) {}
    Value(const char* s) : v_(std::string(s)) {}
    Value(ListPtr l) : v_(std::move(l)) {}
    Value(DictPtr d) : v_(std::move(d)) {}
    Value(FuncPtr f) : v_(std::move(f)) {}

    // A markupsafe.Markup string (from `safe`/`escape`): `+` escapes the plain operand.
    static Value markup(std::string s) {
        Value v(std::move(s));
        v.markup_ = true;
        return v;
    }
    bool is_markup() const { return markup_; }

    static Value undefined(std::string hint) { return Value(Undefined{std::move(hint)}); }
    static Value list(std::vector<Value> items = {});
    static Value tuple(std::vector<Value> items);
    static Value generator(std::vector<Value> items);
    static Value dict();
    static Value namespace_();
    static Value function(std::string name, std::function<Value(struct CallArgs&)> fn);

    Kind kind() const { return static_cast<Kind>(v_.index()); }
    bool is_undefined() const { return kind() == Kind::Undefined; }
    bool is_none() const { return kind() == Kind::None; }
    bool is_bool() const { return kind() == Kind::Bool; }
    bool is_int() const { return kind() == Kind::Int; }
    bool is_float() const { return kind() == Kind::Float; }
    bool is_number() const { return is_int() || is_float() || is_bool(); }
    bool is_string() const { return kind() == Kind::String; }
    bool is_list() const { return kind() == Kind::List; }
    bool is_dict() const { return kind() == Kind::Dict; }
    bool is_function() const { return kind() == Kind::Function; }
    bool is_generator() const;
    bool is_tuple() const;
    bool is_namespace() const;

    bool as_bool() const { return std::get<bool>(v_); }
    int64_t as_int() const { return std::get<int64_t>(v_); }
    double as_float() const { return std::get<double>(v_); }
    const std::string& as_string() const { return std::get<std::string>(v_); }
    const ListPtr& as_list() const { return std::get<ListPtr>(v_); }
    const DictPtr& as_dict() const { return std::get<DictPtr>(v_); }
    const FuncPtr& as_function() const { return std::get<FuncPtr>(v_); }
    const std::string& undefined_hint() const { return std::get<Undefined>(v_).hint; }

    // Numeric view of bool/int/float (bool counts as int like in Python).
    double to_double() const;
    int64_t to_int() const;  // bool or int

    bool truthy() const;
    std::string str() const;   // Python str(); undefined prints empty
    std::string repr() const;  // Python repr()
    void repr_into(std::string& out, int depth) const;
    std::string type_name() const;  // Python type name for messages

    // Throws the undefined's error when this is undefined.
    void require_defined() const;

    static Value from_json(const nlohmann::ordered_json& j);
    nlohmann::ordered_json to_json() const;

  private:
    explicit Value(Undefined u) : v_(std::move(u)) {}
    std::variant<Undefined, None, bool, int64_t, double, std::string, ListPtr, DictPtr, FuncPtr> v_;
    bool markup_ = false;
};

struct ListData {
    std::vector<Value> items;
    bool tuple = false;
    bool generator = false;
};

struct DictData {
    std::vector<std::pair<Value, Value>> items;
    bool is_namespace = false;
    bool is_loop = false;
    FuncPtr call;  // set on loop objects of recursive loops: loop(children)

    const Value* find(const Value& key) const;
    Value* find(const Value& key);
    const Value* find(std::string_view key) const;
    void set(const Value& key, Value v);
};

struct CallArgs {
    std::vector<Value> args;
    std::vector<std::pair<std::string, Value>> kwargs;

    // Python-style argument binding: positional index i or keyword name; `def` if absent.
    Value get(size_t i, std::string_view name, Value def = Value()) const;
    bool has(size_t i, std::string_view name) const;
};

struct Function {
    std::string name;
    std::function<Value(CallArgs&)> fn;
};

// Python semantics.
bool values_equal(const Value& a, const Value& b);
// Returns <0, 0, >0; throws lokal::Error (TypeError) for unorderable types.
int compare_values(const Value& a, const Value& b);
std::string format_float(double d);  // Python repr(float)

// Throws lokal::Error("<type>: <message>"), e.g. type "TypeError" as Python would name it.
[[noreturn]] void raise(std::string_view type, std::string_view message);

// Per-thread budget of the current render: the size of strings and lists it may build and the
// time by which it must end. Set by the renderer; checked by operations that can grow or loop.
void set_render_budget(size_t max_bytes, std::chrono::steady_clock::time_point deadline);
void check_size(size_t bytes);
void check_deadline();

// UTF-8 helpers: Python strings index by code point.
size_t utf8_length(std::string_view s);
std::vector<std::string> utf8_chars(std::string_view s);

}  // namespace lokal::jinja
