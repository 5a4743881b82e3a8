// Builtin tests (`x is defined`, `n is divisibleby 3`, ...), following jinja2 3.1.
#include <map>

#include "jinja/interp.h"

namespace lokal::jinja {

namespace {

using TestFn = bool (*)(Interpreter&, const Value&, CallArgs&);

Value arg0(CallArgs& a) {
    return a.get(0, "other");
}

const std::map<std::string, TestFn, std::less<>>& test_table() {
    static const std::map<std::string, TestFn, std::less<>> table = {
        {"defined", [](Interpreter&, const Value& v, CallArgs&) { return !v.is_undefined(); }},
        {"undefined", [](Interpreter&, const Value& v, CallArgs&) { return v.is_undefined(); }},
        {"none", [](Interpreter&, const Value& v, CallArgs&) { return v.is_none(); }},
        {"string", [](Interpreter&, const Value& v, CallArgs&) { return v.is_string(); }},
        {"number", [](Interpreter&, const Value& v, CallArgs&) { return v.is_number(); }},
        {"integer", [](Interpreter&, const Value& v, CallArgs&) { return v.is_int(); }},
        {"float", [](Interpreter&, const Value& v, CallArgs&) { return v.is_float(); }},
        {"boolean", [](Interpreter&, const Value& v, CallArgs&) { return v.is_bool(); }},
        {"true",
         [](Interpreter&, const Value& v, CallArgs&) { return v.is_bool() && v.as_bool(); }},
        {"false",
         [](Interpreter&, const Value& v, CallArgs&) { return v.is_bool() && !v.as_bool(); }},
        {"mapping",
         [](Interpreter&, const Value& v, CallArgs&) { return v.is_dict() && !v.is_namespace(); }},
        {"sequence",
         [](Interpreter&, const Value& v, CallArgs&) {
             return v.is_string() || (v.is_list() && !v.is_generator()) ||
                    (v.is_dict() && !v.is_namespace());
         }},
        {"iterable",
         [](Interpreter&, const Value& v, CallArgs&) {
             return v.is_string() || v.is_list() || (v.is_dict() && !v.is_namespace());
         }},
        {"callable",
         [](Interpreter&, const Value& v, CallArgs&) {
             return v.is_function() || (v.is_dict() && v.as_dict()->call);
         }},
        {"odd", [](Interpreter&, const Value& v, CallArgs&) { return v.to_int() % 2 != 0; }},
        {"even", [](Interpreter&, const Value& v, CallArgs&) { return v.to_int() % 2 == 0; }},
        {"divisibleby",
         [](Interpreter&, const Value& v, CallArgs& a) {
             int64_t n = a.get(0, "num").to_int();
             if (n == 0) raise("ZeroDivisionError", "integer division or modulo by zero");
             return v.to_int() % n == 0;
         }},
        {"eq", [](Interpreter&, const Value& v, CallArgs& a) { return values_equal(v, arg0(a)); }},
        {"ne", [](Interpreter&, const Value& v, CallArgs& a) { return !values_equal(v, arg0(a)); }},
        {"lt",
         [](Interpreter&, const Value& v, CallArgs& a) { return compare_values(v, arg0(a)) < 0; }},
        {"le",
         [](Interpreter&, const Value& v, CallArgs& a) { return compare_values(v, arg0(a)) <= 0; }},
        {"gt",
         [](Interpreter&, const Value& v, CallArgs& a) { return compare_values(v, arg0(a)) > 0; }},
        {"ge",
         [](Interpreter&, const Value& v, CallArgs& a) { return compare_values(v, arg0(a)) >= 0; }},
        {"in",
         [](Interpreter&, const Value& v, CallArgs& a) { return contains(a.get(0, "seq"), v); }},
        {"sameas",
         [](Interpreter&, const Value& v, CallArgs& a) {
             Value o = arg0(a);
             if (v.kind() != o.kind()) return false;
             if (v.is_list()) return v.as_list() == o.as_list();
             if (v.is_dict()) return v.as_dict() == o.as_dict();
             return values_equal(v, o);
         }},
        {"lower",
         [](Interpreter&, const Value& v, CallArgs&) {
             std::string s = v.str();
             for (char c : s)
                 if (std::isupper(static_cast<unsigned char>(c))) return false;
             return true;
         }},
        {"upper",
         [](Interpreter&, const Value& v, CallArgs&) {
             std::string s = v.str();
             for (char c : s)
                 if (std::islower(static_cast<unsigned char>(c))) return false;
             return true;
         }},
        {"filter", [](Interpreter&, const Value& v,
                      CallArgs&) { return v.is_string() && has_filter(v.as_string()); }},
        {"test", [](Interpreter&, const Value& v,
                    CallArgs&) { return v.is_string() && has_test(v.as_string()); }},
        {"escaped", [](Interpreter&, const Value&, CallArgs&) { return false; }},
    };
    return table;
}

std::string canonical(const std::string& name) {
    static const std::map<std::string, std::string, std::less<>> aliases = {
        {"equalto", "eq"}, {"==", "eq"},          {"!=", "ne"}, {"lessthan", "lt"}, {"<", "lt"},
        {"<=", "le"},      {"greaterthan", "gt"}, {">", "gt"},  {">=", "ge"}};
    auto it = aliases.find(name);
    return it == aliases.end() ? name : it->second;
}

}  // namespace

bool has_test(const std::string& name) {
    return test_table().count(canonical(name)) != 0;
}

bool call_test(Interpreter& in, const std::string& name, const Value& v, CallArgs& args) {
    return test_table().find(canonical(name))->second(in, v, args);
}

}  // namespace lokal::jinja
