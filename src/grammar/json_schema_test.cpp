// JSON Schema -> grammar: hand-written cases per feature, random instances checked against a
// small independent validator, random walks over a real vocabulary's token masks, and hostile
// schemas.
#include "grammar/json_schema.h"

#include <gtest/gtest.h>

#include <random>

#include "base/error.h"
#include "base/test_support.h"
#include "gguf/gguf_file.h"
#include "grammar/constrained_decoder.h"
#include "grammar/matcher.h"
#include "grammar/schema_validator_test_util.h"
#include "tokenizer/tokenizer.h"

namespace lokal::grammar {
namespace {

using testutil::ojson;

std::shared_ptr<const Grammar> compile(const char* schema) {
    return grammar_from_json_schema(ojson::parse(schema));
}

struct Case {
    const char* schema;
    std::vector<const char*> good, bad;
};

const Case kCases[] = {
    {R"({"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"}},
        "required":["name","age"]})",
     {R"({"name":"Bob","age":3})", R"({ "name" : "" , "age" : -0 })"},
     {R"({"age":3,"name":"Bob"})",  // schema order
      R"({"name":"Bob"})", R"({"name":"Bob","age":3.5})", R"({"name":"Bob","age":3,"x":1})",
      R"({})"}},
    {R"({"properties":{"a":{"type":"boolean"},"b":{"type":"null"},"c":{"type":"number"}},
        "required":["b"]})",
     {R"({"b":null})", R"({"a":true,"b":null})", R"({"b":null,"c":1e5})",
      R"({"a":false,"b":null,"c":-1.5})"},
     {R"({})", R"({"a":true})", R"({"a":true,,"b":null})", R"({,"b":null})", R"({"b":null,})"}},
    {R"({"type":"object","properties":{"a":{"type":"integer"}},"additionalProperties":true})",
     {R"({})", R"({"a":1})", R"({"a":1,"zz":[1,{}]})", R"({"zz":"q"})"},
     {R"({"a":"1"})"}},
    {R"({"type":"object","required":["id"]})",
     {R"({"id":1})", R"({"id":[],"other":"x"})"},
     {R"({})", R"({"other":"x"})"}},
    {R"({"type":"object","additionalProperties":{"type":"integer"}})",
     {R"({})", R"({"x":1,"y":2})"},
     {R"({"x":"1"})"}},
    {R"({"type":"array","items":{"type":"integer"},"minItems":2,"maxItems":3})",
     {"[1,2]", "[1, 2, 3]"},
     {"[]", "[1]", "[1,2,3,4]", "[1,\"a\"]"}},
    {R"({"type":"array","items":{"enum":["a","b"]}})",
     {"[]", R"(["a","b","a"])"},
     {R"(["c"])", R"(["ab"])"}},
    {R"({"prefixItems":[{"type":"string"},{"type":"integer"}],"items":false})",
     {R"(["a",1])"},
     {R"(["a"])", R"(["a",1,2])", R"([1,"a"])"}},
    {R"({"enum":["red","green",1,null,{"a":[1]}]})",
     {R"("red")", R"("green")", "1", "null", R"({"a":[1]})"},
     {R"("blue")", R"("re")", "2"}},
    {R"({"const":"fixed"})", {R"("fixed")"}, {R"("fixe")", R"("fixedd")"}},
    {R"({"type":["string","null"]})", {R"("x")", "null"}, {"1"}},
    {R"({"type":"string","nullable":true,"maxLength":2})", {R"("ab")", "null"}, {R"("abc")"}},
    {R"({"anyOf":[{"type":"integer"},{"type":"string","minLength":1}]})",
     {"5", R"("x")"},
     {R"("")", "1.5"}},
    {R"({"type":"string","minLength":2,"maxLength":3})",
     {R"("ab")", R"("abc")", R"("é日")", R"("\n\u0041")"},
     {R"("a")", R"("abcd")"}},
    {R"({"type":"string","pattern":"^[A-Z][a-z]+(-[A-Z][a-z]+)?$"})",
     {R"("Anna")", R"("Anna-Lena")"},
     {R"("anna")", R"("A")", R"("Anna-")", R"("Anna-lena")"}},
    {R"({"type":"string","pattern":"\\d{3}"})",
     {R"("123")", R"("ab123cd")"},
     {R"("12")", R"("ab12c")"}},
    {R"({"type":"string","format":"date"})",
     {R"("2024-02-29")"},
     {R"("2024-13-01")", R"("2024-1-01")", R"("x")"}},
    {R"({"type":"string","format":"date-time"})",
     {R"("2024-02-29T12:30:00Z")", R"("2024-02-29T23:59:60.123+02:00")"},
     {R"("2024-02-29 12:30:00Z")", R"("2024-02-29T24:00:00Z")"}},
    {R"({"type":"string","format":"uuid"})",
     {R"("123e4567-e89b-12d3-a456-426614174000")"},
     {R"("123e4567e89b12d3a456426614174000")"}},
    {R"({"type":"string","format":"email"})", {R"("anything")"}, {"1"}},
    {R"({"allOf":[{"properties":{"a":{"type":"integer"}},"required":["a"]},
                  {"properties":{"b":{"type":"string"}},"required":["b"]}]})",
     {R"({"a":1,"b":"x"})"},
     {R"({"a":1})", R"({"b":"x"})"}},
    {R"({"$defs":{"node":{"type":"object","properties":{"v":{"type":"integer"},
        "next":{"$ref":"#/$defs/node"}},"required":["v"]}},"$ref":"#/$defs/node"})",
     {R"({"v":1})", R"({"v":1,"next":{"v":2,"next":{"v":3}}})"},
     {R"({"v":1,"next":{}})"}},
    {R"({"definitions":{"s":{"type":"string"}},"type":"array","items":{"$ref":"#/definitions/s"}})",
     {R"(["a","b"])"},
     {"[1]"}},
    {R"({"title":"T","description":"d","examples":[1],"default":{},"type":"boolean"})",
     {"true"},
     {"1"}},
    {R"({})", {"1", R"({"a":[]})", "null"}, {"nul"}},
};

TEST(JsonSchema, HandWrittenCases) {
    for (const Case& c : kCases) {
        SCOPED_TRACE(c.schema);
        auto g = compile(c.schema);
        const ojson schema = ojson::parse(c.schema);
        testutil::Validator v(schema);
        for (const char* doc : c.good) {
            EXPECT_TRUE(matches(g, doc)) << "should accept " << doc;
            EXPECT_TRUE(v.valid(ojson::parse(doc))) << "validator disagrees on " << doc;
        }
        for (const char* doc : c.bad) EXPECT_FALSE(matches(g, doc)) << "should reject " << doc;
    }
}

// Whatever the grammar accepts must be valid: random values against every case's schema.
TEST(JsonSchema, RandomValuesAcceptedOnlyWhenValid) {
    std::mt19937 rng(11);
    int accepted = 0;
    for (const Case& c : kCases) {
        SCOPED_TRACE(c.schema);
        const ojson schema = ojson::parse(c.schema);
        auto g = grammar_from_json_schema(schema);
        testutil::Validator v(schema);
        for (int i = 0; i < 300; ++i) {
            const ojson value = testutil::random_value(rng);
            for (const std::string& text : {value.dump(), value.dump(2)}) {
                if (matches(g, text)) {
                    ++accepted;
                    EXPECT_TRUE(v.valid(value)) << text;
                }
            }
        }
    }
    EXPECT_GT(accepted, 200);
}

TEST(JsonSchema, UnsupportedKeywordsThrow) {
    for (const char* s :
         {R"({"type":"integer","minimum":3,"maximum":2})", R"({"type":"number","maximum":1})",
          R"({"type":"array","uniqueItems":true})", R"({"not":{}})",
          R"({"type":"object","patternProperties":{"a":{}}})", R"({"if":{},"then":{}})",
          R"({"type":"strin"})", R"({"$ref":"http://x"})", R"({"$ref":"#/$defs/missing"})",
          R"({"type":"string","pattern":"(a)\\1"})", R"j({"type":"string","pattern":"(?=a)"})j",
          R"({"enum":[]})", "false", R"({"type":"array","minItems":3,"maxItems":2})"}) {
        EXPECT_THROW(compile(s), Error) << s;
    }
    try {
        compile(R"({"properties":{"a":{"type":"integer","multipleOf":3}}})");
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("multipleOf"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("#/properties/a"), std::string::npos) << e.what();
    }
}

// Integer bounds: every integer in and around a range is accepted exactly when inside it, in
// canonical spelling only (no leading zeros, no "-0").
TEST(JsonSchema, IntegerBoundsAreExact) {
    auto check = [](int64_t lo, int64_t hi, const std::string& schema) {
        auto g = compile(schema.c_str());
        const int64_t span = 40;
        for (int64_t v : {lo, hi}) {
            for (int64_t d = -span; d <= span; ++d) {
                if ((d < 0 && v < INT64_MIN - d) || (d > 0 && v > INT64_MAX - d)) continue;
                const int64_t x = v + d;
                EXPECT_EQ(matches(g, std::to_string(x)), x >= lo && x <= hi) << schema << " " << x;
            }
        }
        if (lo <= 0 && hi >= 0) {
            EXPECT_TRUE(matches(g, "0")) << schema;
            EXPECT_FALSE(matches(g, "-0")) << schema;
        }
        EXPECT_FALSE(matches(g, "0" + std::to_string(hi > 0 ? hi : 1))) << schema;
    };
    check(-5, 123, R"({"type":"integer","minimum":-5,"maximum":123})");
    check(1, 9, R"({"type":"integer","exclusiveMinimum":0,"exclusiveMaximum":10})");
    check(0, 0, R"({"type":"integer","minimum":0,"maximum":0})");
    check(-1000, -7, R"({"type":"integer","minimum":-1000,"maximum":-7})");
    check(3, 4, R"({"type":"integer","minimum":2.5,"maximum":4.9})");
    check(6, 7, R"({"type":"integer","minimum":5,"exclusiveMinimum":true,"maximum":7})");
    check(INT64_MIN, -99, R"({"type":"integer","maximum":-99})");
    check(1000000, INT64_MAX, R"({"type":"integer","minimum":1000000})");
    check(INT64_MAX - 3, INT64_MAX, R"({"type":"integer","minimum":9223372036854775804})");
    std::mt19937_64 rng(7);
    for (int i = 0; i < 60; ++i) {
        const int64_t scale = (int64_t)1 << (rng() % 40);
        int64_t a = (int64_t)(rng() % (2 * scale)) - scale,
                b = (int64_t)(rng() % (2 * scale)) - scale;
        if (a > b) std::swap(a, b);
        check(a, b,
              "{\"type\":\"integer\",\"minimum\":" + std::to_string(a) +
                  ",\"maximum\":" + std::to_string(b) + "}");
    }
}

TEST(JsonSchema, HostileSchemasFailClearlyOrStayBounded) {
    // Self-reference without consuming input: left recursion.
    EXPECT_THROW(compile(R"({"$ref":"#"})"), Error);
    EXPECT_THROW(compile(R"({"$defs":{"a":{"$ref":"#/$defs/b"},"b":{"$ref":"#/$defs/a"}},
                             "$ref":"#/$defs/a"})"),
                 Error);
    EXPECT_THROW(compile(R"({"$defs":{"a":{"anyOf":[{"$ref":"#/$defs/a"},{"type":"null"}]}},
                             "$ref":"#/$defs/a"})"),
                 Error);
    EXPECT_THROW(compile(R"({"$defs":{"a":{"allOf":[{"$ref":"#/$defs/a"}]}},"$ref":"#/$defs/a"})"),
                 Error);
    // Huge lengths hit the size limit instead of exhausting memory.
    EXPECT_THROW(compile(R"({"type":"string","maxLength":100000000})"), Error);
    // Deep nesting of inline schemas.
    std::string deep = R"({"type":"integer"})";
    for (int i = 0; i < 200; ++i) deep = R"({"type":"array","items":)" + deep + "}";
    EXPECT_THROW(grammar_from_json_schema(ojson::parse(deep)), Error);
    // Recursion that consumes input is fine: arrays of arrays of ...
    auto g = compile(R"({"$defs":{"t":{"type":"array","items":{"$ref":"#/$defs/t"}}},
                         "$ref":"#/$defs/t"})");
    EXPECT_TRUE(matches(g, "[[[],[[]]]]"));
    EXPECT_FALSE(matches(g, "[[1]]"));
}

TEST(JsonSchema, PropertyOrderFollowsOrderedJson) {
    const char* s =
        R"({"type":"object","properties":{"z":{"type":"integer"},"a":{"type":"integer"}},
                        "required":["z","a"]})";
    auto ordered = grammar_from_json_schema(ojson::parse(s));
    EXPECT_TRUE(matches(ordered, R"({"z":1,"a":2})"));
    EXPECT_FALSE(matches(ordered, R"({"a":2,"z":1})"));
    auto sorted = grammar_from_json_schema(nlohmann::json::parse(s));  // std::map: sorted keys
    EXPECT_TRUE(matches(sorted, R"({"a":2,"z":1})"));
}

TEST(Format, ParseFormatAndResponseFormat) {
    EXPECT_EQ(parse_format(nlohmann::json()), nullptr);
    EXPECT_EQ(parse_format(nlohmann::json("")), nullptr);
    auto j = parse_format(nlohmann::json("json"));
    ASSERT_NE(j, nullptr);
    EXPECT_TRUE(matches(j, R"({"a":[1]})"));
    EXPECT_FALSE(matches(j, "[1]"));
    auto s = parse_format(nlohmann::json::parse(
        R"({"type":"object","properties":{"a":{"type":"integer"}},"required":["a"]})"));
    EXPECT_TRUE(matches(s, R"({"a":1})"));
    EXPECT_THROW(parse_format(nlohmann::json("xml")), Error);
    EXPECT_THROW(parse_format(nlohmann::json(3)), Error);

    EXPECT_EQ(parse_response_format(nlohmann::json::parse(R"({"type":"text"})")), nullptr);
    auto o = parse_response_format(nlohmann::json::parse(R"({"type":"json_object"})"));
    EXPECT_TRUE(matches(o, "{}"));
    auto js = parse_response_format(nlohmann::json::parse(
        R"({"type":"json_schema","json_schema":{"name":"x","strict":true,
            "schema":{"type":"object","properties":{"ok":{"type":"boolean"}},
                      "required":["ok"],"additionalProperties":false}}})"));
    EXPECT_TRUE(matches(js, R"({"ok":true})"));
    EXPECT_FALSE(matches(js, R"({})"));
    EXPECT_THROW(parse_response_format(nlohmann::json::parse(R"({"type":"yaml"})")), Error);
}

// Random walks: pick random allowed tokens from the mask until done; the text must parse and
// validate.
const char* const kWalkSchemas[] = {
    R"({"type":"object","properties":{"name":{"type":"string","maxLength":12},
        "age":{"type":"integer"},"tags":{"type":"array","items":{"type":"string","maxLength":6},"maxItems":3},
        "kind":{"enum":["cat","dog","bird"]},"ok":{"type":["boolean","null"]}},
        "required":["name","age","kind"]})",
    R"({"type":"object","properties":{"when":{"type":"string","format":"date"},
        "id":{"type":"string","format":"uuid"},"score":{"type":"number"},
        "code":{"type":"string","pattern":"^[A-Z]{2}-\\d{2,4}$"}},
        "required":["when","id","code"],"additionalProperties":false})",
    R"({"$defs":{"item":{"type":"object","properties":{"x":{"type":"integer"},
        "sub":{"type":"array","items":{"$ref":"#/$defs/item"},"maxItems":2}},"required":["x"]}},
        "type":"array","items":{"$ref":"#/$defs/item"},"minItems":1,"maxItems":3})",
};

std::vector<uint8_t> brute_force_mask(const Matcher& m, const TokenTrie& trie) {
    std::vector<uint8_t> out(static_cast<size_t>(trie.n_vocab()), 0);
    for (int32_t id = 0; id < trie.n_vocab(); ++id) {
        if (trie.is_eog(id)) {
            out[id] = m.accepting();
        } else if (!trie.piece(id).empty()) {
            out[id] = m.can_accept(trie.piece(id));
        }
    }
    return out;
}

std::string walk(ConstrainedDecoder& dec, std::mt19937& rng, int brute_force_steps) {
    std::string out;
    for (int step = 0; step < 400 && !dec.done(); ++step) {
        const std::vector<uint8_t>& mask = dec.mask();
        if (step < brute_force_steps) {
            EXPECT_EQ(mask, brute_force_mask(dec.matcher(), dec.trie())) << "after " << out;
        }
        std::vector<int32_t> allowed, closing;
        int32_t eog = -1;
        for (size_t i = 0; i < mask.size(); ++i) {
            if (!mask[i]) continue;
            const auto id = static_cast<int32_t>(i);
            if (dec.trie().is_eog(id)) {
                eog = id;
                continue;
            }
            allowed.push_back(id);
            const std::string& p = dec.trie().piece(id);
            if (p.size() == 1 && (p == "\"" || p == "}" || p == "]" || p == "0")) {
                closing.push_back(id);
            }
        }
        if (eog >= 0) {
            dec.accept(eog);
            break;
        }
        if (allowed.empty()) {
            ADD_FAILURE() << "stuck after " << out;
            break;
        }
        // Past a budget, close things when possible so the walk ends.
        const std::vector<int32_t>& from = (step > 60 && !closing.empty()) ? closing : allowed;
        const int32_t id = from[std::uniform_int_distribution<size_t>(0, from.size() - 1)(rng)];
        dec.accept(id);
        out += dec.trie().piece(id);
    }
    return out;
}

TEST(JsonSchema, RandomWalksOverRealVocabValidate) {
    LOKAL_REQUIRE_TESTDATA("tokenizer/ggml-vocab-llama-spm.gguf");
    auto file = gguf::File::open(testing::testdata_path("tokenizer/ggml-vocab-llama-spm.gguf"));
    auto tok = tokenizer::Tokenizer::from_gguf(*file);
    auto trie = std::make_shared<TokenTrie>(*tok);
    std::mt19937 rng(5);
    for (const char* schema_text : kWalkSchemas) {
        SCOPED_TRACE(schema_text);
        const ojson schema = ojson::parse(schema_text);
        auto g = grammar_from_json_schema(schema);
        testutil::Validator v(schema);
        int finished = 0;
        for (int run = 0; run < 8; ++run) {
            ConstrainedDecoder dec(g, trie);
            const std::string text = walk(dec, rng, run == 0 ? 12 : 0);
            if (!dec.done()) continue;
            ++finished;
            ASSERT_TRUE(ojson::accept(text)) << text;
            EXPECT_TRUE(v.valid(ojson::parse(text))) << text;
        }
        EXPECT_GE(finished, 6);
    }
}

}  // namespace
}  // namespace lokal::grammar
