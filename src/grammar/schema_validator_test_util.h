// Test helpers: a small JSON Schema validator (the subset the grammar compiler supports) and a
// generator of random instances, to check grammars against an independent reading of the
// schema.
#pragma once

#include <nlohmann/json.hpp>

#include <random>
#include <regex>
#include <string>

namespace lokal::grammar::testutil {

using ojson = nlohmann::ordered_json;

inline size_t utf8_chars(const std::string& s) {
    size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    return n;
}

class Validator {
  public:
    explicit Validator(const ojson& root) : root_(root) {}

    bool valid(const ojson& v) const { return check(root_, v, 0); }

  private:
    const ojson& resolve(const std::string& ref) const {
        if (ref == "#") return root_;
        return root_.at(ojson::json_pointer(ref.substr(1)));
    }

    bool check(const ojson& s, const ojson& v, int depth) const {
        if (depth > 200) return false;
        if (s.is_boolean()) return s.get<bool>();
        if (s.contains("nullable") && s["nullable"] == true && v.is_null()) return true;
        if (s.contains("$ref") && !check(resolve(s["$ref"]), v, depth + 1)) return false;
        if (s.contains("allOf")) {
            // Like the compiler: one schema from the parts (additionalProperties defaults to
            // false for the merged properties, not for each part).
            ojson merged = s;
            merged.erase("allOf");
            for (const ojson& p0 : s["allOf"]) {
                const ojson& p = p0.contains("$ref") ? resolve(p0["$ref"]) : p0;
                for (auto& [k, x] : p.items()) {
                    if ((k == "properties" || k == "required") && merged.contains(k)) {
                        if (k == "properties") {
                            for (auto& [pk, pv] : x.items()) merged[k][pk] = pv;
                        } else {
                            for (const ojson& r : x) merged[k].push_back(r);
                        }
                    } else {
                        merged[k] = x;
                    }
                }
            }
            return check(merged, v, depth + 1);
        }
        for (const char* key : {"anyOf", "oneOf"}) {
            if (!s.contains(key)) continue;
            bool any = false;
            for (const ojson& p : s[key]) any = any || check(p, v, depth + 1);
            if (!any) return false;
        }
        if (s.contains("const") && s["const"] != v) return false;
        if (s.contains("enum")) {
            bool any = false;
            for (const ojson& e : s["enum"]) any = any || e == v;
            if (!any) return false;
        }
        if (s.contains("type")) {
            bool any = false;
            if (s["type"].is_string()) {
                any = type_ok(s["type"], v);
            } else {
                for (const ojson& t : s["type"]) any = any || type_ok(t, v);
            }
            if (!any) return false;
        }
        if (v.is_string()) {
            const std::string str = v.get<std::string>();
            const size_t n = utf8_chars(str);
            if (s.contains("minLength") && n < s["minLength"].get<size_t>()) return false;
            if (s.contains("maxLength") && n > s["maxLength"].get<size_t>()) return false;
            if (s.contains("pattern") &&
                !std::regex_search(str, std::regex(s["pattern"].get<std::string>()))) {
                return false;
            }
            if (s.contains("format")) {
                const std::string f = s["format"];
                static const std::regex date(R"(^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$)");
                static const std::regex uuid(
                    R"(^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$)");
                if (f == "date" && !std::regex_search(str, date)) return false;
                if (f == "uuid" && !std::regex_search(str, uuid)) return false;
            }
        }
        if (v.is_array()) {
            if (s.contains("minItems") && v.size() < s["minItems"].get<size_t>()) return false;
            if (s.contains("maxItems") && v.size() > s["maxItems"].get<size_t>()) return false;
            size_t first = 0;
            if (s.contains("prefixItems")) {
                const ojson& p = s["prefixItems"];
                if (v.size() < p.size()) return false;  // our compiler requires them all
                for (; first < p.size(); ++first) {
                    if (!check(p[first], v[first], depth + 1)) return false;
                }
            }
            if (s.contains("items")) {
                for (size_t i = first; i < v.size(); ++i) {
                    if (!check(s["items"], v[i], depth + 1)) return false;
                }
            }
        }
        if (v.is_object()) {
            if (s.contains("required")) {
                for (const ojson& r : s["required"]) {
                    if (!v.contains(r.get<std::string>())) return false;
                }
            }
            const bool has_props = s.contains("properties");
            ojson additional = has_props ? ojson(false) : ojson(true);
            if (s.contains("additionalProperties")) additional = s["additionalProperties"];
            for (auto& [k, x] : v.items()) {
                bool req = false;
                if (s.contains("required")) {
                    for (const ojson& r : s["required"]) req = req || r == k;
                }
                if (has_props && s["properties"].contains(k)) {
                    if (!check(s["properties"][k], x, depth + 1)) return false;
                } else if (!req && !check(additional, x, depth + 1)) {
                    return false;  // required but undescribed names take any value
                }
            }
        }
        return true;
    }

    static bool type_ok(const std::string& t, const ojson& v) {
        if (t == "object") return v.is_object();
        if (t == "array") return v.is_array();
        if (t == "string") return v.is_string();
        if (t == "number") return v.is_number();
        if (t == "integer") return v.is_number_integer();
        if (t == "boolean") return v.is_boolean();
        if (t == "null") return v.is_null();
        return false;
    }

    const ojson& root_;
};

// A random JSON value (for soundness checks: whatever the grammar accepts must be valid).
inline ojson random_value(std::mt19937& rng, int depth = 0) {
    auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
    static const char* const keys[] = {"name", "age", "tags", "x", "id", "kind", "a", "b"};
    static const char* const strs[] = {
        "", "a", "Bob", "2024-02-29", "hello world", "ab", "123e4567-e89b-12d3-a456-426614174000"};
    switch (depth > 2 ? pick(5) : pick(7)) {
        case 0:
            return nullptr;
        case 1:
            return pick(2) == 0;
        case 2:
            return pick(2000) - 1000;
        case 3:
            return pick(1000) / 8.0;
        case 4:
            return strs[pick(7)];
        case 5: {
            ojson a = ojson::array();
            for (int i = pick(4); i > 0; --i) a.push_back(random_value(rng, depth + 1));
            return a;
        }
        default: {
            ojson o = ojson::object();
            for (int i = pick(4); i > 0; --i) o[keys[pick(8)]] = random_value(rng, depth + 1);
            return o;
        }
    }
}

}  // namespace lokal::grammar::testutil
