// Lexer: splits template source into text and tag tokens, applying jinja2's whitespace control
// (trim_blocks, lstrip_blocks, `-` and `+` modifiers), comments and raw blocks.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lokal::jinja {

enum class TokenType {
    Text,
    VarBegin,
    VarEnd,
    BlockBegin,
    BlockEnd,
    Name,
    String,
    Int,
    Float,
    Op,
    Eof
};

struct Token {
    TokenType type;
    std::string value;  // text, name, operator, or decoded string literal
    int line = 1;
    int64_t int_value = 0;
    double float_value = 0;
};

struct LexerOptions {
    bool trim_blocks = true;
    bool lstrip_blocks = true;
    bool keep_trailing_newline = false;
};

// Throws lokal::Error("TemplateSyntaxError: ... (line N)") on malformed input.
std::vector<Token> tokenize(std::string_view source, const LexerOptions& options = {});

}  // namespace lokal::jinja
