// Internal: Go template values (truthiness, printing) and the builtin functions, each a function
// found by name in a table (go_template_funcs.cpp), for the renderer in go_template.cpp.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace lokal::chat::go {

// Throws lokal::Error "template line N: what".
[[noreturn]] void fail(int line, const std::string& what);

// Go's truthiness: false, 0, "", nil and empty lists/maps are false.
bool truthy(const nlohmann::json& v);
// The text fmt.Print gives: nil as nothing, lists as [a b], maps as map[k:v].
std::string print_value(const nlohmann::json& v);

// Calls the builtin function `name` (and, or, not, eq, ..., printf, json); fails for an unknown
// function or too few arguments.
nlohmann::json call_builtin(const std::string& name, const std::vector<nlohmann::json>& args,
                            int line);

}  // namespace lokal::chat::go
