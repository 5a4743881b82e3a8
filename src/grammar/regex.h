// JSON Schema "pattern" (an ECMA-262 regular expression) as grammar rules over the characters
// of a JSON string. Supported: literals, ".", classes ([a-z], [^...], \d \w \s and their
// negations), groups ((...), (?:...), (?<name>...)), alternation, the quantifiers * + ? {n}
// {n,} {n,m} (lazy forms match the same strings), escapes (\n \t \uXXXX \xHH, escaped
// punctuation), and ^ / $ anchors at the ends. As the spec says, an unanchored pattern may
// match anywhere in the string. Backreferences, lookaround and word boundaries throw
// lokal::Error.
#pragma once

#include <string_view>

#include "grammar/grammar.h"
#include "grammar/json_rules.h"

namespace lokal::grammar {

// The string's contents (without quotes) matching `pattern`.
Sym regex_to_rules(JsonRules& json, std::string_view pattern);

}  // namespace lokal::grammar
