// The matcher on hand-made grammars and on the JSON grammar: a corpus of valid and invalid
// documents, prefixes, snapshots and the grammar checks.
#include "grammar/matcher.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "grammar/json_grammar.h"
#include "grammar/json_rules.h"

namespace lokal::grammar {
namespace {

using B = GrammarBuilder;

TEST(Matcher, SimpleGrammarAcceptsExactly) {
    // root ::= "a" x "c" ; x ::= "b" x | ""
    B b;
    const uint32_t root = b.declare("root");
    const Sym xs = b.repeat("x", {B::byte('b')}, 0, -1);
    b.add_alt(root, {B::byte('a'), xs, B::byte('c')});
    auto g = b.build(root);
    EXPECT_TRUE(matches(g, "ac"));
    EXPECT_TRUE(matches(g, "abbbbbc"));
    EXPECT_FALSE(matches(g, "abbb"));
    EXPECT_FALSE(matches(g, "abcc"));
    EXPECT_FALSE(matches(g, ""));
    Matcher m(g);
    EXPECT_TRUE(m.accept("ab"));
    EXPECT_FALSE(m.accepting());
    EXPECT_FALSE(m.accept("bx"));  // all or nothing
    Matcher snap = m;
    EXPECT_TRUE(m.accept("c"));
    EXPECT_TRUE(m.accepting());
    EXPECT_FALSE(m.can_continue());
    EXPECT_FALSE(snap.accepting());
    EXPECT_TRUE(snap.can_accept("bbc"));
}

TEST(Matcher, BoundedRepeat) {
    B b;
    const uint32_t root = b.declare("root");
    b.add_alt(root, {b.repeat("x", {B::byte('x')}, 2, 4)});
    auto g = b.build(root);
    EXPECT_FALSE(matches(g, "x"));
    EXPECT_TRUE(matches(g, "xx"));
    EXPECT_TRUE(matches(g, "xxxx"));
    EXPECT_FALSE(matches(g, "xxxxx"));
}

TEST(Matcher, LongRepetitionKeepsStacksSmall) {
    auto g = grammar_for_any_json();
    Matcher m(g);
    ASSERT_TRUE(m.accept("{\"k\": \""));
    for (int i = 0; i < 20000; ++i) ASSERT_TRUE(m.accept("abc "));
    EXPECT_LT(m.engine().arena.size(), 2000u);
    EXPECT_TRUE(m.accept("\"}"));
    EXPECT_TRUE(m.accepting());
}

TEST(Matcher, LeftRecursionIsRejected) {
    B b;
    const uint32_t root = b.declare("root");
    const uint32_t e = b.declare("e");
    const Sym opt = b.optional("sp", {B::byte(' ')});
    b.add_alt(e, {opt, B::ref(e), B::byte('+')});  // left-recursive through a nullable symbol
    b.add_alt(e, {B::byte('1')});
    b.add_alt(root, {B::ref(e)});
    EXPECT_THROW(b.build(root), Error);
}

TEST(Matcher, EmptyRuleIsRejected) {
    B b;
    const uint32_t root = b.declare("root");
    EXPECT_THROW(b.build(root), Error);
}

const char* const kValidJson[] = {
    R"({})",
    R"({"a":1})",
    R"({ "a" : [ 1 , 2 , 3 ] , "b" : { } })",
    "{\n  \"nested\": {\"x\": [[], [{}], [[1, -2.5e+10]]]},\n  \"t\": true\n}",
    R"({"e":"\" \\ \/ \b \f \n \r \t"})",
    R"({"u":"\u0041\u00e9\u4e2D\uD83D\uDE00"})",
    R"({"n":[0, -0, 1e5, 1.5E-3, -0.0, 12345678901234, 3.25e-7, 1E+2]})",
    R"({"s":"ünïcödé 日本語 😀"})",
    R"({"z":null,"f":false})",
    R"({"":""})",
};

const char* const kInvalidJson[] = {
    R"([1,2])",  // top level must be an object
    R"("str")",
    R"({"a":1,})",  // trailing comma
    R"({"a":01})",  // leading zero
    R"({"a":1.})",  // no fraction digits
    R"({"a":.5})",
    R"({"a":+1})",
    R"({"a":1e})",
    R"({'a':1})",       // single quotes
    R"({"a":"\x41"})",  // bad escape
    R"({"a":"\u12G4"})",
    R"({"a":"\uD800"})",  // lone high surrogate
    R"({"a":"\uDC00"})",  // lone low surrogate
    R"({"a":tru})",
    R"({"a":True})",
    R"({"a" 1})",
    R"({"a":1}})",
    R"({"a":[1 2]})",
    "{\"a\":\"tab\there\"}",         // raw control character
    " {}",                           // leading whitespace
    "{} ",                           // trailing whitespace
    "{\"a\":\"\xC0\xAF\"}",          // overlong UTF-8
    "{\"a\":\"\xED\xA0\x80\"}",      // encoded surrogate
    "{\"a\":\"\xF4\x90\x80\x80\"}",  // beyond U+10FFFF
    "{\"a\":\"\xE4\xB8\"}",          // truncated sequence
    "{\"a\":NaN}",
};

TEST(JsonGrammar, AcceptsValidCorpus) {
    auto g = grammar_for_any_json();
    for (const char* doc : kValidJson) {
        EXPECT_TRUE(nlohmann::json::accept(doc)) << doc;
        EXPECT_TRUE(matches(g, doc)) << doc;
    }
}

TEST(JsonGrammar, RejectsInvalidCorpus) {
    auto g = grammar_for_any_json();
    for (const char* doc : kInvalidJson) EXPECT_FALSE(matches(g, doc)) << doc;
}

TEST(JsonGrammar, AnyValue) {
    auto g = grammar_for_json_value();
    for (const char* doc : {"1", "-0", "\"x\"", "[1,{\"a\":[]}]", "null", "true"}) {
        EXPECT_TRUE(matches(g, doc)) << doc;
    }
    for (const char* doc : {"01", "[1,]", "nul", "\"a"}) EXPECT_FALSE(matches(g, doc)) << doc;
}

TEST(JsonGrammar, WhitespaceIsBounded) {
    auto g = grammar_for_any_json();
    Matcher m(g);
    ASSERT_TRUE(m.accept("{"));
    for (int i = 0; i < kMaxWhitespace; ++i) ASSERT_TRUE(m.accept(" ")) << i;
    EXPECT_FALSE(m.accept(" "));
    EXPECT_TRUE(m.accept("}"));
}

TEST(JsonGrammar, PrefixesOfValidDocumentsStayAlive) {
    auto g = grammar_for_any_json();
    for (const char* doc : kValidJson) {
        Matcher m(g);
        const std::string s = doc;
        for (size_t i = 0; i < s.size(); ++i) {
            ASSERT_TRUE(m.accept(s.substr(i, 1))) << doc << " at " << i;
            if (i + 1 < s.size()) {
                EXPECT_FALSE(m.accepting()) << doc << " at " << i;
            }
        }
        EXPECT_TRUE(m.accepting());
    }
}

}  // namespace
}  // namespace lokal::grammar
