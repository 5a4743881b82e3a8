// GBNF, the grammar notation llama.cpp users write for constrained output, parsed into our
// Grammar: rules `name ::= ...`, alternatives `|`, groups `( )`, string literals and character
// classes (`[a-z]`, `[^"\\]`, code points beyond ASCII as their UTF-8 sequences), `.` for any
// character, repetition `* + ? {m} {m,} {m,n}`, `#` comments, rules over several lines.
#pragma once

#include <memory>
#include <string_view>

#include "grammar/grammar.h"

namespace lokal::grammar {

// Throws lokal::Error naming the line and column of the problem (undefined rule, unterminated
// string, unbalanced parentheses, ...), when `root` is not defined, or when the grammar is
// left-recursive or too large.
std::shared_ptr<const Grammar> parse_gbnf(std::string_view text, std::string_view root = "root");

}  // namespace lokal::grammar
