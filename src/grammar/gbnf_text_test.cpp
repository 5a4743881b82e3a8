// GBNF grammars of the kinds llama.cpp users write, run through our matcher; every error names
// its line and column; hostile inputs fail cleanly.
#include "grammar/gbnf_text.h"

#include <gtest/gtest.h>

#include <random>

#include "base/error.h"
#include "grammar/matcher.h"

namespace lokal::grammar {
namespace {

TEST(Gbnf, Arithmetic) {
    auto g = parse_gbnf(R"g(
        # expressions with precedence
        root  ::= expr
        expr  ::= term (("+" | "-") term)*
        term  ::= factor (("*" | "/") factor)*
        factor ::= number | "(" expr ")"
        number ::= [0-9]+
    )g");
    EXPECT_TRUE(matches(g, "1+2*3"));
    EXPECT_TRUE(matches(g, "(1+2)*30/4"));
    EXPECT_FALSE(matches(g, "1+"));
    EXPECT_FALSE(matches(g, "(1+2"));
    EXPECT_FALSE(matches(g, "a"));
}

TEST(Gbnf, JsonLikeGrammarOverSeveralLines) {
    auto g = parse_gbnf(R"g(root ::= object
object ::= "{" ws ( string ":" ws value ( "," ws string ":" ws value )* )? "}"
value  ::= object | array | string | number | ("true" | "false" | "null")
array  ::= "[" ws ( value ( "," ws value )* )? "]"
string ::= "\"" ( [^"\\\x7F\x00-\x1F] | "\\" (["\\/bfnrt] | "u" [0-9a-fA-F]{4}) )* "\""
number ::= "-"? [0-9]+ ("." [0-9]+)?
ws ::= [ \t\n]{0,8}
)g");
    EXPECT_TRUE(matches(g, R"g({"a":1,"b":[true,"x\u00e9"],"c":{"d":null}})g"));
    EXPECT_TRUE(matches(g, "{}"));
    EXPECT_FALSE(matches(g, R"g({"a":})g"));
    EXPECT_FALSE(matches(g, R"g({"a":"\q"})g"));
}

TEST(Gbnf, RepetitionBounds) {
    auto g = parse_gbnf(R"g(root ::= "a"{2} "b"{1,3} "c"{2,} "d"?)g");
    EXPECT_TRUE(matches(g, "aabcc"));
    EXPECT_TRUE(matches(g, "aabbbccccd"));
    EXPECT_FALSE(matches(g, "abcc"));
    EXPECT_FALSE(matches(g, "aabbbbcc"));
    EXPECT_FALSE(matches(g, "aabc"));
}

TEST(Gbnf, Utf8ClassesLiteralsAndAnyChar) {
    auto g = parse_gbnf("root ::= [ぁ-ゟ]+ \"→\" . \"\\u00e9\" [^a-z]");
    EXPECT_TRUE(matches(g, "ひらがな→xé7"));
    EXPECT_TRUE(matches(g, "あ→🦙éZ"));
    EXPECT_FALSE(matches(g, "カ→xé7"));  // katakana is outside the class
    EXPECT_FALSE(matches(g, "あ→xéz"));
}

TEST(Gbnf, ChessMovesAndRuleReferencesBeforeDefinition) {
    auto g = parse_gbnf(R"g(
root ::= move (" " move)*
move ::= piece? file rank | "O-O" | "O-O-O"
piece ::= [KQRBN]
file ::= [a-h]
rank ::= [1-8]
)g");
    EXPECT_TRUE(matches(g, "e4 Nf3 O-O"));
    EXPECT_FALSE(matches(g, "e9"));
}

TEST(Gbnf, OtherRootAndEscapes) {
    auto g = parse_gbnf("line ::= \"say \\\"hi\\\"\\n\" | \"\\x41\\t\"", "line");
    EXPECT_TRUE(matches(g, "say \"hi\"\n"));
    EXPECT_TRUE(matches(g, "A\t"));
}

std::string error_of(std::string_view text) {
    try {
        parse_gbnf(text);
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

TEST(Gbnf, ErrorsNameLineAndColumn) {
    EXPECT_EQ(error_of("root ::= x\n"), "GBNF line 1, column 10: undefined rule 'x'");
    EXPECT_EQ(error_of("x ::= \"a\""), "GBNF: the grammar has no 'root' rule to start from");
    EXPECT_EQ(error_of("root ::= \"abc"), "GBNF line 1, column 14: unterminated string");
    EXPECT_EQ(error_of("root ::= (\"a\" | \"b\""),
              "GBNF line 1, column 20: unbalanced '(': missing ')'");
    EXPECT_EQ(error_of("root ::= \"a\")"), "GBNF line 1, column 13: unbalanced ')'");
    EXPECT_EQ(error_of(""), "GBNF line 1, column 1: the grammar is empty");
    EXPECT_EQ(error_of("root ::= \"a\"{3,2}"),
              "GBNF line 1, column 18: repetition {m,n} needs m <= n");
    EXPECT_EQ(error_of("root ::= \"a\"\nroot ::= \"b\""),
              "GBNF line 2, column 1: rule 'root' is defined twice");
    EXPECT_EQ(error_of("root ::= [b-a]"), "GBNF line 1, column 14: character range out of order");
    EXPECT_EQ(error_of("root ::= \"\\q\""), "GBNF line 1, column 13: unknown escape '\\q'");
    EXPECT_EQ(error_of("root = \"a\""),
              "GBNF line 1, column 6: expected '::=' after rule name 'root'");
    EXPECT_NE(error_of("root ::= root \"a\"").find("left"), std::string::npos)
        << error_of("root ::= root \"a\"");
    EXPECT_NE(error_of("root ::= \"a\"{99999}").find("repetition count"), std::string::npos);
}

TEST(Gbnf, HostileInputsFailCleanly) {
    EXPECT_NE(error_of("root ::= " + std::string(5000, '(') + "\"a\"" + std::string(5000, ')')),
              "");
    EXPECT_NE(error_of(std::string(2 << 20, ' ')), "");
    const std::string base = R"g(root ::= obj
obj ::= "{" (pair ("," pair)*)? "}"
pair ::= [a-z]+ ":" ([0-9]+ | obj | "\"" [^"]* "\"")
)g";
    ASSERT_EQ(error_of(base), "");
    std::mt19937 rng(42);
    const std::string pieces = "()[]{}|*+?.\"\\:=#\n -^,0123456789abcx";
    for (int i = 0; i < 3000; ++i) {
        std::string t = base;
        const int edits = 1 + (int)(rng() % 4);
        for (int e = 0; e < edits; ++e) {
            const size_t at = rng() % t.size();
            switch (rng() % 3) {
                case 0:
                    t[at] = pieces[rng() % pieces.size()];
                    break;
                case 1:
                    t.erase(at, 1 + rng() % 3);
                    break;
                default:
                    t.insert(at, 1, pieces[rng() % pieces.size()]);
                    break;
            }
            if (t.empty()) t = "x";
        }
        try {
            auto g = parse_gbnf(t);
            (void)matches(g, "{ab:12,c:{}}");
        } catch (const Error&) {
        }
    }
}

}  // namespace
}  // namespace lokal::grammar
