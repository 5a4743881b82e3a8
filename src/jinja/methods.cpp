// Python methods of str, list and dict that templates call (`s.strip()`, `d.items()`, ...).
// Mutating list/dict methods are refused like in jinja2's ImmutableSandboxedEnvironment.
#include <algorithm>
#include <cctype>
#include <set>

#include "jinja/interp.h"
#include "jinja/strings.h"

namespace lokal::jinja {

namespace {

Value bound(const Value& self, const std::string& name,
            std::function<Value(const Value&, CallArgs&)> fn) {
    return Value::function(name, [self, fn = std::move(fn)](CallArgs& a) { return fn(self, a); });
}

Value unsafe(const Value& obj, const std::string& name) {
    return Value::undefined("access to attribute '" + name + "' of '" + obj.type_name() +
                            "' object is unsafe.");
}

int64_t opt_int(const Value& v, int64_t def) {
    return v.is_undefined() || v.is_none() ? def : v.to_int();
}

// Python str.format with positional/keyword fields; format specs are not supported.
std::string py_format(const std::string& fmt, CallArgs& a) {
    std::string out;
    size_t auto_index = 0;
    for (size_t i = 0; i < fmt.size(); i++) {
        char c = fmt[i];
        if (c == '{' && i + 1 < fmt.size() && fmt[i + 1] == '{') {
            out += '{';
            i++;
        } else if (c == '}' && i + 1 < fmt.size() && fmt[i + 1] == '}') {
            out += '}';
            i++;
        } else if (c == '{') {
            size_t end = fmt.find('}', i);
            if (end == std::string::npos)
                raise("ValueError", "Single '{' encountered in format string");
            std::string field = fmt.substr(i + 1, end - i - 1);
            if (field.find(':') != std::string::npos || field.find('!') != std::string::npos)
                raise("ValueError", "format specs are not supported: {" + field + "}");
            Value v;
            if (field.empty()) {
                if (auto_index >= a.args.size())
                    raise("IndexError", "Replacement index out of range");
                v = a.args[auto_index++];
            } else if (std::all_of(field.begin(), field.end(), ::isdigit)) {
                size_t k = std::stoul(field);
                if (k >= a.args.size()) raise("IndexError", "Replacement index out of range");
                v = a.args[k];
            } else {
                bool found = false;
                for (auto& [k, val] : a.kwargs)
                    if (k == field) {
                        v = val;
                        found = true;
                    }
                if (!found) raise("KeyError", "'" + field + "'");
            }
            out += v.str();
            check_size(out.size());
            i = end;
        } else if (c == '}') {
            raise("ValueError", "Single '}' encountered in format string");
        } else {
            out += c;
        }
    }
    return out;
}

template <typename Pred>
bool all_chars(const std::string& s, Pred p) {
    if (s.empty()) return false;
    for (unsigned char c : s)
        if (!p(c)) return false;
    return true;
}

bool starts_or_ends(const std::string& s, const Value& arg, bool start) {
    auto test = [&](const std::string& p) {
        if (p.size() > s.size()) return false;
        return start ? s.compare(0, p.size(), p) == 0
                     : s.compare(s.size() - p.size(), p.size(), p) == 0;
    };
    if (arg.is_list() && !arg.is_generator()) {
        for (const auto& x : arg.as_list()->items)
            if (test(x.str())) return true;
        return false;
    }
    if (!arg.is_string())
        raise("TypeError", std::string(start ? "startswith" : "endswith") +
                               " first arg must be str or a tuple of str, not " + arg.type_name());
    return test(arg.as_string());
}

Value list_of_strings(std::vector<std::string> parts) {
    std::vector<Value> out;
    for (auto& p : parts) out.emplace_back(std::move(p));
    return Value::list(std::move(out));
}

Value string_method(const Value& self, const std::string& name) {
    using A = CallArgs;
    const std::string& s = self.as_string();
    auto strip = [&](bool l, bool r) {
        return bound(self, name, [l, r](const Value& v, A& a) {
            Value chars = a.get(0, "chars", Value(None{}));
            return Value(
                str_strip(v.as_string(), chars.is_none() ? nullptr : &chars.as_string(), l, r));
        });
    };
    if (name == "strip") return strip(true, true);
    if (name == "lstrip") return strip(true, false);
    if (name == "rstrip") return strip(false, true);
    if (name == "split" || name == "rsplit") {
        bool right = name == "rsplit";
        return bound(self, name, [right](const Value& v, A& a) {
            Value sep = a.get(0, "sep", Value(None{}));
            int64_t maxsplit = opt_int(a.get(1, "maxsplit"), -1);
            std::string sep_s = sep.is_none() ? "" : sep.str();
            return list_of_strings(
                str_split(v.as_string(), sep.is_none() ? nullptr : &sep_s, maxsplit, right));
        });
    }
    if (name == "splitlines") {
        return bound(self, name, [](const Value& v, A& a) {
            bool keep = a.get(0, "keepends", Value(false)).truthy();
            std::vector<std::string> lines;
            const std::string& str = v.as_string();
            size_t start = 0;
            for (size_t i = 0; i < str.size(); i++) {
                if (str[i] == '\n' || str[i] == '\r') {
                    size_t end = i;
                    if (str[i] == '\r' && i + 1 < str.size() && str[i + 1] == '\n') i++;
                    lines.push_back(str.substr(start, (keep ? i + 1 : end) - start));
                    start = i + 1;
                }
            }
            if (start < str.size()) lines.push_back(str.substr(start));
            return list_of_strings(std::move(lines));
        });
    }
    if (name == "startswith" || name == "endswith") {
        bool start = name == "startswith";
        return bound(self, name, [start](const Value& v, A& a) {
            return Value(starts_or_ends(v.as_string(), a.get(0, "prefix"), start));
        });
    }
    if (name == "upper")
        return bound(self, name,
                     [](const Value& v, A&) { return Value(str_upper(v.as_string())); });
    if (name == "lower")
        return bound(self, name,
                     [](const Value& v, A&) { return Value(str_lower(v.as_string())); });
    if (name == "title")
        return bound(self, name,
                     [](const Value& v, A&) { return Value(str_title(v.as_string())); });
    if (name == "capitalize")
        return bound(self, name,
                     [](const Value& v, A&) { return Value(str_capitalize(v.as_string())); });
    if (name == "replace") {
        return bound(self, name, [](const Value& v, A& a) {
            return Value(str_replace(v.as_string(), a.get(0, "old").str(), a.get(1, "new").str(),
                                     opt_int(a.get(2, "count"), -1)));
        });
    }
    if (name == "find" || name == "rfind" || name == "index" || name == "rindex") {
        bool right = name[0] == 'r';
        bool throws = name.find("index") != std::string::npos;
        return bound(self, name, [right, throws](const Value& v, A& a) {
            const std::string& str = v.as_string();
            std::string sub = a.get(0, "sub").str();
            size_t f = right ? str.rfind(sub) : str.find(sub);
            if (f == std::string::npos) {
                if (throws) raise("ValueError", "substring not found");
                return Value(-1);
            }
            return Value(static_cast<int64_t>(utf8_length(std::string_view(str).substr(0, f))));
        });
    }
    if (name == "count") {
        return bound(self, name, [](const Value& v, A& a) {
            const std::string& str = v.as_string();
            std::string sub = a.get(0, "sub").str();
            if (sub.empty()) return Value(static_cast<int64_t>(utf8_length(str) + 1));
            int64_t n = 0;
            for (size_t p = str.find(sub); p != std::string::npos;
                 p = str.find(sub, p + sub.size()))
                n++;
            return Value(n);
        });
    }
    if (name == "join") {
        return bound(self, name, [](const Value& v, A& a) {
            std::string out;
            bool first = true;
            for (const auto& item : iterate(a.get(0, "iterable"))) {
                if (!item.is_string())
                    raise("TypeError",
                          "sequence item: expected str instance, " + item.type_name() + " found");
                if (!first) out += v.as_string();
                first = false;
                out += item.as_string();
                check_size(out.size());
            }
            return Value(std::move(out));
        });
    }
    if (name == "format")
        return bound(self, name,
                     [](const Value& v, A& a) { return Value(py_format(v.as_string(), a)); });
    if (name == "removeprefix" || name == "removesuffix") {
        bool prefix = name == "removeprefix";
        return bound(self, name, [prefix](const Value& v, A& a) {
            const std::string& str = v.as_string();
            std::string p = a.get(0, "fix").str();
            if (p.size() <= str.size()) {
                if (prefix && str.compare(0, p.size(), p) == 0) return Value(str.substr(p.size()));
                if (!prefix && str.compare(str.size() - p.size(), p.size(), p) == 0)
                    return Value(str.substr(0, str.size() - p.size()));
            }
            return v;
        });
    }
    auto pred = [&](auto p) {
        return bound(self, name,
                     [p](const Value& v, A&) { return Value(all_chars(v.as_string(), p)); });
    };
    if (name == "isdigit" || name == "isnumeric" || name == "isdecimal")
        return pred([](unsigned char c) { return std::isdigit(c) != 0; });
    if (name == "isalpha")
        return pred([](unsigned char c) { return std::isalpha(c) != 0 || c >= 0x80; });
    if (name == "isalnum")
        return pred([](unsigned char c) { return std::isalnum(c) != 0 || c >= 0x80; });
    if (name == "isspace") return pred([](unsigned char c) { return is_py_space(c); });
    if (name == "islower" || name == "isupper") {
        bool upper = name == "isupper";
        return bound(self, name, [upper](const Value& v, A&) {
            bool cased = false;
            for (unsigned char c : v.as_string()) {
                if (std::islower(c)) {
                    if (upper) return Value(false);
                    cased = true;
                } else if (std::isupper(c)) {
                    if (!upper) return Value(false);
                    cased = true;
                }
            }
            return Value(cased);
        });
    }
    (void)s;
    return Value();
}

Value list_method(const Value& self, const std::string& name) {
    static const std::set<std::string> mutators = {"append", "extend", "insert", "pop",
                                                   "remove", "clear",  "sort",   "reverse"};
    if (mutators.count(name)) return unsafe(self, name);
    if (self.is_generator()) return Value();
    if (name == "index") {
        return bound(self, name, [](const Value& v, CallArgs& a) {
            Value x = a.get(0, "value");
            const auto& items = v.as_list()->items;
            for (size_t i = 0; i < items.size(); i++)
                if (values_equal(items[i], x)) return Value(static_cast<int64_t>(i));
            raise("ValueError", x.repr() + " is not in list");
        });
    }
    if (name == "count") {
        return bound(self, name, [](const Value& v, CallArgs& a) {
            Value x = a.get(0, "value");
            int64_t n = 0;
            for (const auto& item : v.as_list()->items) n += values_equal(item, x);
            return Value(n);
        });
    }
    if (name == "copy")
        return bound(self, name,
                     [](const Value& v, CallArgs&) { return Value::list(v.as_list()->items); });
    return Value();
}

Value dict_method(const Value& self, const std::string& name) {
    static const std::set<std::string> mutators = {"update", "pop", "popitem", "setdefault",
                                                   "clear"};
    if (mutators.count(name)) return unsafe(self, name);
    if (name == "items") {
        return bound(self, name, [](const Value& v, CallArgs&) {
            std::vector<Value> out;
            for (const auto& [k, val] : v.as_dict()->items) out.push_back(Value::tuple({k, val}));
            return Value::list(std::move(out));
        });
    }
    if (name == "keys" || name == "values") {
        bool keys = name == "keys";
        return bound(self, name, [keys](const Value& v, CallArgs&) {
            std::vector<Value> out;
            for (const auto& [k, val] : v.as_dict()->items) out.push_back(keys ? k : val);
            return Value::list(std::move(out));
        });
    }
    if (name == "get") {
        return bound(self, name, [](const Value& v, CallArgs& a) {
            if (const Value* x = v.as_dict()->find(a.get(0, "key"))) return *x;
            return a.get(1, "default", Value(None{}));
        });
    }
    if (name == "copy") {
        return bound(self, name, [](const Value& v, CallArgs&) {
            auto d = std::make_shared<DictData>();
            d->items = v.as_dict()->items;
            return Value(std::move(d));
        });
    }
    return Value();
}

}  // namespace

Value get_method(const Value& obj, const std::string& name) {
    if (!name.empty() && name[0] == '_') return unsafe(obj, name);
    if (obj.is_string()) return string_method(obj, name);
    if (obj.is_list()) return list_method(obj, name);
    if (obj.is_dict()) return dict_method(obj, name);
    return Value();
}

}  // namespace lokal::jinja
