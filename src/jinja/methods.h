// Internal: the Python methods of str, list and dict values that templates call, each a function
// found by name in a table (methods.cpp, string_methods.cpp).
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "jinja/value.h"

namespace lokal::jinja {

using MethodFn = Value (*)(const Value& self, CallArgs& args);

struct MethodRow {
    std::string_view name;
    MethodFn fn;
};

// The row's function bound to `self` as a callable named `name`, or undefined when no row has
// that name.
Value bind_method(std::span<const MethodRow> table, const Value& self, const std::string& name);

// Bound method of a str, or undefined when str has none by that name.
Value string_method(const Value& self, const std::string& name);

}  // namespace lokal::jinja
