#include "grammar/json_schema.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "base/error.h"
#include "grammar/integer_range.h"
#include "grammar/json_grammar.h"
#include "grammar/json_rules.h"
#include "grammar/regex.h"
#include "grammar/string_formats.h"

namespace lokal::grammar {

namespace {

using ojson = nlohmann::ordered_json;
using B = GrammarBuilder;

constexpr int kMaxDepth = 64;

const std::set<std::string>& annotations() {
    static const std::set<std::string> s = {
        "title",           "description",   "examples", "example",      "default",
        "$schema",         "$id",           "$comment", "$anchor",      "deprecated",
        "readOnly",        "writeOnly",     "$defs",    "definitions",  "contentMediaType",
        "contentEncoding", "discriminator", "xml",      "externalDocs", "strict",
        "$vocabulary",     "$dynamicAnchor"};
    return s;
}

const std::set<std::string>& handled() {
    static const std::set<std::string> s = {"type",
                                            "properties",
                                            "required",
                                            "additionalProperties",
                                            "items",
                                            "prefixItems",
                                            "minItems",
                                            "maxItems",
                                            "enum",
                                            "const",
                                            "anyOf",
                                            "oneOf",
                                            "allOf",
                                            "$ref",
                                            "minLength",
                                            "maxLength",
                                            "pattern",
                                            "format",
                                            "nullable",
                                            "uniqueItems",
                                            "additionalItems",
                                            "minimum",
                                            "maximum",
                                            "exclusiveMinimum",
                                            "exclusiveMaximum"};
    return s;
}

class SchemaCompiler {
  public:
    explicit SchemaCompiler(const ojson& root) : root_(root), json_(b_) {}

    // The document, between fixed texts (markup a tool call is wrapped in).
    std::shared_ptr<const Grammar> compile(std::string_view prefix = {},
                                           std::string_view suffix = {}) {
        const uint32_t root = b_.declare("root");
        Seq seq = GrammarBuilder::literal(prefix);
        seq.push_back(visit(root_, 0, "#"));
        for (const Sym& s : GrammarBuilder::literal(suffix)) seq.push_back(s);
        b_.add_alt(root, std::move(seq));
        return b_.build(root);
    }

  private:
    [[noreturn]] static void fail(const std::string& where, const std::string& why) {
        throw Error("JSON schema at " + where + ": " + why);
    }

    static int64_t count_field(const ojson& s, const char* key, const std::string& where) {
        const ojson& v = s.at(key);
        if (!v.is_number_integer() || v.get<int64_t>() < 0) {
            if (v.is_number_float() && v.get<double>() >= 0 &&
                v.get<double>() == static_cast<double>(static_cast<int64_t>(v.get<double>()))) {
                return static_cast<int64_t>(v.get<double>());
            }
            fail(where, std::string("\"") + key + "\" must be a non-negative integer");
        }
        return v.get<int64_t>();
    }

    const ojson& resolve(const std::string& ref, const std::string& where) const {
        if (ref.empty() || ref[0] != '#') {
            fail(where, "only local $ref (\"#...\") is supported, got \"" + ref + "\"");
        }
        try {
            const std::string ptr = ref.substr(1);
            if (ptr.empty()) return root_;
            return root_.at(ojson::json_pointer(ptr));
        } catch (const nlohmann::json::exception&) {
            fail(where, "$ref \"" + ref + "\" does not resolve");
        }
    }

    Sym ref_rule(const std::string& ref, const std::string& where, int depth) {
        auto it = refs_.find(ref);
        if (it != refs_.end()) return B::ref(it->second);
        const ojson& target = resolve(ref, where);
        const uint32_t r = b_.declare("ref " + ref);
        refs_.emplace(ref, r);
        b_.add_alt(r, {visit(target, depth + 1, ref)});
        return B::ref(r);
    }

    // allOf: the parts' keywords together (properties and required united; later parts win
    // for other keywords). $ref parts are resolved.
    ojson merge_all_of(const ojson& s, const std::string& where, int depth) {
        if (depth > kMaxDepth) fail(where, "nested too deeply (a $ref cycle through allOf?)");
        ojson out = s;
        out.erase("allOf");
        const ojson& parts = s.at("allOf");
        if (!parts.is_array()) fail(where, "allOf must be an array");
        for (const ojson& part0 : parts) {
            ojson part = part0;
            if (part.is_boolean()) {
                if (!part.get<bool>()) fail(where, "allOf with false matches nothing");
                continue;
            }
            if (!part.is_object()) fail(where, "allOf items must be schemas");
            int hops = 0;
            while (part.contains("$ref")) {
                if (++hops > kMaxDepth) fail(where, "$ref cycle in allOf");
                ojson target = resolve(part["$ref"].get<std::string>(), where);
                part.erase("$ref");
                for (auto& [k, v] : part.items()) target[k] = v;
                part = std::move(target);
            }
            if (part.contains("allOf")) part = merge_all_of(part, where, depth + 1);
            for (auto& [k, v] : part.items()) {
                if (k == "properties" && out.contains("properties")) {
                    for (auto& [pk, pv] : v.items()) out["properties"][pk] = pv;
                } else if (k == "required" && out.contains("required")) {
                    for (const ojson& r : v) {
                        bool have = false;
                        for (const ojson& e : out["required"]) have = have || e == r;
                        if (!have) out["required"].push_back(r);
                    }
                } else {
                    out[k] = v;
                }
            }
        }
        return out;
    }

    Sym visit(const ojson& s, int depth, const std::string& where) {
        if (depth > kMaxDepth) fail(where, "nested too deeply");
        if (s.is_boolean()) {
            if (!s.get<bool>()) fail(where, "schema false matches nothing");
            return json_.value();
        }
        if (!s.is_object()) fail(where, "a schema must be an object or a boolean");
        for (auto& [k, v] : s.items()) {
            if (!handled().count(k) && !annotations().count(k)) {
                fail(where, "keyword \"" + k + "\" is not supported");
            }
        }
        if (s.contains("nullable") && s["nullable"] == true) {
            ojson inner = s;
            inner.erase("nullable");
            return b_.choice("nullable", {{visit(inner, depth + 1, where)}, {json_.null()}});
        }
        if (s.contains("allOf")) return visit(merge_all_of(s, where, depth), depth + 1, where);
        if (s.contains("$ref")) {
            if (!s["$ref"].is_string()) fail(where, "$ref must be a string");
            ojson rest = s;
            rest.erase("$ref");
            bool constrains = false;
            for (auto& [k, v] : rest.items()) constrains = constrains || !annotations().count(k);
            const std::string ref = s["$ref"].get<std::string>();
            if (!constrains) return ref_rule(ref, where, depth);
            ojson merged = {{"allOf", ojson::array({{{"$ref", ref}}, rest})}};
            return visit(merged, depth + 1, where);
        }
        for (const char* key : {"anyOf", "oneOf"}) {
            if (!s.contains(key)) continue;
            const ojson& alts = s[key];
            if (!alts.is_array() || alts.empty()) {
                fail(where, std::string(key) + " must be a non-empty array");
            }
            ojson rest = s;
            rest.erase(key);
            bool constrains = false;
            for (auto& [k, v] : rest.items()) constrains = constrains || !annotations().count(k);
            std::vector<Seq> choices;
            for (size_t i = 0; i < alts.size(); ++i) {
                const std::string w = where + "/" + key + "/" + std::to_string(i);
                if (constrains) {
                    ojson both = {{"allOf", ojson::array({rest, alts[i]})}};
                    choices.push_back({visit(both, depth + 1, w)});
                } else {
                    choices.push_back({visit(alts[i], depth + 1, w)});
                }
            }
            return b_.choice(key, std::move(choices));
        }
        if (s.contains("const")) return json_.literal_choice({s["const"].dump()});
        if (s.contains("enum")) {
            const ojson& e = s["enum"];
            if (!e.is_array() || e.empty()) fail(where, "enum must be a non-empty array");
            std::vector<std::string> texts;
            for (const ojson& v : e) texts.push_back(v.dump());
            return json_.literal_choice(std::move(texts));
        }
        if (s.contains("uniqueItems") && s["uniqueItems"] != false) {
            fail(where, "keyword \"uniqueItems\" is not supported");
        }

        std::vector<std::string> types;
        if (s.contains("type")) {
            const ojson& t = s["type"];
            if (t.is_string()) {
                types.push_back(t.get<std::string>());
            } else if (t.is_array() && !t.empty()) {
                for (const ojson& x : t) {
                    if (!x.is_string()) fail(where, "type must be a string or strings");
                    types.push_back(x.get<std::string>());
                }
            } else {
                fail(where, "type must be a string or a non-empty array");
            }
        } else if (s.contains("properties") || s.contains("required") ||
                   s.contains("additionalProperties")) {
            types = {"object"};
        } else if (s.contains("items") || s.contains("prefixItems") || s.contains("minItems") ||
                   s.contains("maxItems")) {
            types = {"array"};
        } else if (s.contains("minLength") || s.contains("maxLength") || s.contains("pattern") ||
                   s.contains("format")) {
            types = {"string"};
        } else {
            return json_.value();
        }
        std::vector<Seq> alts;
        alts.reserve(types.size());
        for (const std::string& t : types) alts.push_back({visit_type(s, t, depth, where)});
        return b_.choice("types", std::move(alts));
    }

    Sym visit_type(const ojson& s, const std::string& t, int depth, const std::string& where) {
        if (t == "object") return visit_object(s, depth, where);
        if (t == "array") return visit_array(s, depth, where);
        if (t == "string") return visit_string(s, where);
        if (t == "number") {
            if (has_bounds(s)) {
                fail(where,
                     "minimum/maximum on \"number\" are not supported (they are on "
                     "\"integer\")");
            }
            return json_.number();
        }
        if (t == "integer")
            return has_bounds(s) ? visit_bounded_integer(s, where) : json_.integer();
        if (t == "boolean") return json_.boolean();
        if (t == "null") return json_.null();
        fail(where, "unknown type \"" + t + "\"");
    }

    static bool has_bounds(const ojson& s) {
        return s.contains("minimum") || s.contains("maximum") || s.contains("exclusiveMinimum") ||
               s.contains("exclusiveMaximum");
    }

    // minimum / maximum / exclusiveMinimum / exclusiveMaximum (numbers, or draft 4's booleans
    // qualifying minimum/maximum) narrowed to the integers they allow.
    Sym visit_bounded_integer(const ojson& s, const std::string& where) {
        // The least (up = true) or greatest integer allowed by a bound; exclusive bounds step
        // past the value. Saturates at the int64 range.
        auto bound = [&](const char* key, bool up, bool exclusive) -> int64_t {
            const ojson& v = s.at(key);
            if (!v.is_number()) fail(where, std::string("\"") + key + "\" must be a number");
            if (v.is_number_integer()) {
                int64_t x;
                if (v.is_number_unsigned()) {
                    const uint64_t u = v.get<uint64_t>();
                    if (u > (uint64_t)INT64_MAX) return INT64_MAX;
                    x = (int64_t)u;
                } else {
                    x = v.get<int64_t>();
                }
                if (!exclusive) return x;
                if (up) return x == INT64_MAX ? x : x + 1;
                return x == INT64_MIN ? x : x - 1;
            }
            return bound_from_double(v.get<double>(), up, exclusive);
        };
        auto flag = [&](const char* key) {
            return s.contains(key) && s.at(key).is_boolean() && s.at(key).get<bool>();
        };
        int64_t lo = INT64_MIN, hi = INT64_MAX;
        if (s.contains("minimum"))
            lo = std::max(lo, bound("minimum", true, flag("exclusiveMinimum")));
        if (s.contains("exclusiveMinimum") && !s.at("exclusiveMinimum").is_boolean()) {
            lo = std::max(lo, bound("exclusiveMinimum", true, true));
        }
        if (s.contains("maximum"))
            hi = std::min(hi, bound("maximum", false, flag("exclusiveMaximum")));
        if (s.contains("exclusiveMaximum") && !s.at("exclusiveMaximum").is_boolean()) {
            hi = std::min(hi, bound("exclusiveMaximum", false, true));
        }
        if (lo > hi) fail(where, "no integer satisfies minimum/maximum");
        return b_.choice("integer-range", integer_range_alternatives(lo, hi));
    }

    static int64_t bound_from_double(double x, bool up, bool exclusive) {
        double r = up ? std::ceil(x) : std::floor(x);
        if (exclusive && r == x) r += up ? 1 : -1;
        if (!(r > -9223372036854775808.0)) return INT64_MIN;  // also NaN
        if (r >= 9223372036854775807.0) return INT64_MAX;
        return (int64_t)r;
    }

    Sym visit_string(const ojson& s, const std::string& where) {
        const bool has_len = s.contains("minLength") || s.contains("maxLength");
        if (s.contains("pattern")) {
            if (has_len) fail(where, "pattern together with minLength/maxLength");
            if (!s["pattern"].is_string()) fail(where, "pattern must be a string");
            const Sym body = regex_to_rules(json_, s["pattern"].get<std::string>());
            return b_.seq("string-pattern", {B::byte('"'), body, B::byte('"')});
        }
        if (s.contains("format") && s["format"].is_string()) {
            if (auto f = format_rules(json_, s["format"].get<std::string>())) {
                if (has_len) fail(where, "format together with minLength/maxLength");
                return *f;
            }
        }
        if (!has_len) return json_.string();
        const int64_t min = s.contains("minLength") ? count_field(s, "minLength", where) : 0;
        const int64_t max = s.contains("maxLength") ? count_field(s, "maxLength", where) : -1;
        if (max >= 0 && max < min) fail(where, "maxLength < minLength");
        const Sym chars = b_.repeat_alts("string-chars", json_.string_char_alts(), min, max);
        return b_.seq("string-len", {B::byte('"'), chars, B::byte('"')});
    }

    Sym visit_array(const ojson& s, int depth, const std::string& where) {
        int64_t min = s.contains("minItems") ? count_field(s, "minItems", where) : 0;
        int64_t max = s.contains("maxItems") ? count_field(s, "maxItems", where) : -1;
        if (max >= 0 && max < min) fail(where, "maxItems < minItems");
        std::vector<Sym> prefix;
        ojson items = true;
        if (s.contains("prefixItems")) {
            if (!s["prefixItems"].is_array()) fail(where, "prefixItems must be an array");
            for (size_t i = 0; i < s["prefixItems"].size(); ++i) {
                prefix.push_back(visit(s["prefixItems"][i], depth + 1,
                                       where + "/prefixItems/" + std::to_string(i)));
            }
            if (s.contains("items")) items = s["items"];
        } else if (s.contains("items")) {
            if (s["items"].is_array()) {  // draft 4-2019 tuples
                for (size_t i = 0; i < s["items"].size(); ++i) {
                    prefix.push_back(
                        visit(s["items"][i], depth + 1, where + "/items/" + std::to_string(i)));
                }
                items = s.contains("additionalItems") ? s["additionalItems"] : ojson(true);
            } else {
                items = s["items"];
            }
        }
        if (prefix.empty()) {
            return json_.array_of(visit(items, depth + 1, where + "/items"), min, max);
        }
        // Tuples: every prefix item is required, then the rest per "items".
        const auto n = static_cast<int64_t>(prefix.size());
        if (max >= 0 && max < n) fail(where, "maxItems below the number of prefixItems");
        const Sym ws = json_.ws();
        Seq body = {B::byte('['), ws};
        for (size_t i = 0; i < prefix.size(); ++i) {
            if (i > 0) {
                body.push_back(B::byte(','));
                body.push_back(ws);
            }
            body.push_back(prefix[i]);
            body.push_back(ws);
        }
        const bool more_allowed = !(items.is_boolean() && !items.get<bool>());
        if (more_allowed && (max < 0 || max > n)) {
            const Sym item = visit(items, depth + 1, where + "/items");
            body.push_back(b_.repeat("tuple-more", {B::byte(','), ws, item, ws},
                                     std::max<int64_t>(min - n, 0), max < 0 ? -1 : max - n));
        } else if (min > n) {
            fail(where, "minItems above the number of allowed items");
        }
        body.push_back(B::byte(']'));
        return b_.seq("tuple", std::move(body));
    }

    Sym visit_object(const ojson& s, int depth, const std::string& where) {
        for (const char* k :
             {"patternProperties", "minProperties", "maxProperties", "propertyNames",
              "dependentRequired", "dependentSchemas", "unevaluatedProperties"}) {
            if (s.contains(k)) fail(where, std::string("keyword \"") + k + "\" is not supported");
        }
        struct Prop {
            std::string name;
            ojson schema;
            bool required;
        };
        std::vector<Prop> props;
        std::set<std::string> required;
        if (s.contains("required")) {
            if (!s["required"].is_array()) fail(where, "required must be an array");
            for (const ojson& r : s["required"]) {
                if (!r.is_string()) fail(where, "required must list strings");
                required.insert(r.get<std::string>());
            }
        }
        if (s.contains("properties")) {
            if (!s["properties"].is_object()) fail(where, "properties must be an object");
            for (auto& [k, v] : s["properties"].items()) {
                props.push_back({k, v, required.count(k) > 0});
            }
        }
        for (const std::string& r : required) {  // required but not described: any value
            bool listed = false;
            for (const Prop& p : props) listed = listed || p.name == r;
            if (!listed) props.push_back({r, true, true});
        }
        ojson additional = s.contains("properties") ? ojson(false) : ojson(true);
        if (s.contains("additionalProperties")) additional = s["additionalProperties"];
        const bool extra = !(additional.is_boolean() && !additional.get<bool>());
        if (props.empty() && additional == true) return json_.object();

        const Sym ws = json_.ws();
        std::vector<Sym> members;
        for (const Prop& p : props) {
            const Sym value = visit(p.schema, depth + 1, where + "/properties/" + p.name);
            Seq kv = B::literal(json_quote(p.name));
            kv.insert(kv.end(), {ws, B::byte(':'), ws, value, ws});
            members.push_back(b_.seq("kv-" + p.name, std::move(kv)));
        }
        // Tail after the listed properties: additional members, if allowed.
        Seq tail_first, tail_more;
        if (extra) {
            const Sym value = visit(additional, depth + 1, where + "/additionalProperties");
            std::vector<std::string> names;
            names.reserve(props.size());
            for (const Prop& p : props) names.push_back(p.name);
            const Sym key = json_.string_excluding(names);
            const Sym kv = b_.seq("kv-extra", {key, ws, B::byte(':'), ws, value, ws});
            const Sym more = b_.repeat("kv-extra-more", {B::byte(','), ws, kv}, 0, -1);
            tail_first = {b_.optional("kv-extra-any", {kv, more})};
            tail_more = {more};
        }
        // rest[i][any]: properties i.. in order, `any` telling whether one came before (so
        // the next needs a comma). Optional properties may be skipped.
        const size_t n = props.size();
        std::vector<std::array<uint32_t, 2>> rest(n + 1);
        rest[n][0] = b_.rule("props-end", {tail_first});
        rest[n][1] = b_.rule("props-end-more", {tail_more});
        for (size_t i = n; i-- > 0;) {
            for (int any = 0; any < 2; ++any) {
                Seq take;
                if (any) take = {B::byte(','), ws};
                take.push_back(members[i]);
                take.push_back(B::ref(rest[i + 1][1]));
                std::vector<Seq> alts = {take};
                if (!props[i].required) alts.push_back({B::ref(rest[i + 1][any])});
                rest[i][any] = b_.rule("props-" + std::to_string(i), std::move(alts));
            }
        }
        return b_.seq("object", {B::byte('{'), ws, B::ref(rest[0][0]), B::byte('}')});
    }

    const ojson& root_;
    GrammarBuilder b_;
    JsonRules json_;
    std::map<std::string, uint32_t> refs_;
};

}  // namespace

std::shared_ptr<const Grammar> grammar_from_json_schema(const nlohmann::ordered_json& schema) {
    return SchemaCompiler(schema).compile();
}

std::shared_ptr<const Grammar> grammar_from_json_schema(const nlohmann::ordered_json& schema,
                                                        std::string_view prefix,
                                                        std::string_view suffix) {
    return SchemaCompiler(schema).compile(prefix, suffix);
}

std::shared_ptr<const Grammar> grammar_from_json_schema(const nlohmann::json& schema) {
    return grammar_from_json_schema(nlohmann::ordered_json(schema));
}

std::shared_ptr<const Grammar> parse_format(const nlohmann::ordered_json& format) {
    if (format.is_null() || (format.is_string() && format.get<std::string>().empty())) {
        return nullptr;
    }
    if (format.is_string()) {
        if (format.get<std::string>() == "json") return grammar_for_any_json();
        throw Error("invalid format \"" + format.get<std::string>() +
                    "\": expected \"json\" or a JSON schema object");
    }
    if (format.is_object()) return grammar_from_json_schema(format);
    throw Error("invalid format: expected \"json\" or a JSON schema object");
}

std::shared_ptr<const Grammar> parse_format(const nlohmann::json& format) {
    return parse_format(nlohmann::ordered_json(format));
}

std::shared_ptr<const Grammar> parse_response_format(const nlohmann::ordered_json& rf) {
    if (rf.is_null()) return nullptr;
    if (!rf.is_object() || !rf.contains("type") || !rf["type"].is_string()) {
        throw Error("invalid response_format: expected an object with a \"type\"");
    }
    const std::string type = rf["type"].get<std::string>();
    if (type == "text") return nullptr;
    if (type == "json_object") return grammar_for_any_json();
    if (type == "json_schema") {
        if (!rf.contains("json_schema") || !rf["json_schema"].is_object()) {
            throw Error("invalid response_format: json_schema object missing");
        }
        const auto& js = rf["json_schema"];
        if (!js.contains("schema")) return grammar_for_any_json();
        return grammar_from_json_schema(js["schema"]);
    }
    throw Error("invalid response_format type \"" + type + "\"");
}

std::shared_ptr<const Grammar> parse_response_format(const nlohmann::json& rf) {
    return parse_response_format(nlohmann::ordered_json(rf));
}

}  // namespace lokal::grammar
