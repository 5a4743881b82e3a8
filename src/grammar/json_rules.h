// Grammar rules for JSON text, made on demand in one GrammarBuilder and shared by everything
// built there (the plain JSON mode and the JSON Schema compiler).
//
// Limits that keep a model from running on forever: whitespace runs are at most kMaxWhitespace
// bytes, integer parts at most 19 digits, fractions at most 18, exponents at most 3.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "grammar/grammar.h"
#include "grammar/utf8_ranges.h"

namespace lokal::grammar {

inline constexpr int kMaxWhitespace = 16;

class JsonRules {
  public:
    explicit JsonRules(GrammarBuilder& b) : b_(b) {}
    GrammarBuilder& builder() { return b_; }

    Sym ws();           // \n? [ \t]{0,kMaxWhitespace}
    Sym string();       // any JSON string
    Sym string_char();  // one character inside a string (raw or escaped)
    // The alternatives of string_char(), for repeating them in place (see repeat_alts).
    const std::vector<Seq>& string_char_alts() {
        string_char();
        return char_alts_;
    }
    Sym number();   // any JSON number
    Sym integer();  // -?(0|[1-9][0-9]*)
    Sym boolean();
    Sym null();
    Sym value();   // any JSON value
    Sym object();  // any JSON object
    Sym array();   // any JSON array

    // One character (code point) of `set` inside a string, each with one spelling: raw, or
    // the short escape (\" \\ \b \f \n \r \t) where JSON needs one; other control
    // characters are left out.
    Sym char_of(const CodepointSet& set);
    // A string (quotes included) equal to none of `names`. Characters are spelled as by
    // char_of, so each string has one spelling and the names cannot sneak in escaped.
    Sym string_excluding(const std::vector<std::string>& names);
    // The exact bytes of any of `texts` (factored by common prefixes, so the matcher follows
    // one path for shared prefixes).
    Sym literal_choice(std::vector<std::string> texts);
    // "[" ws ( item ws ("," ws item ws){min-1,max-1} )? "]"; max < 0: unbounded.
    Sym array_of(const Sym& item, int64_t min, int64_t max);
    // "{" ws ( member ws ("," ws member ws)* )? "}"
    Sym object_of(const Sym& member);

  private:
    Sym excluding(const std::vector<std::vector<uint32_t>>& names, size_t b, size_t e, size_t depth,
                  const Sym& rest);
    std::vector<Seq> literal_alts(std::vector<std::string>& texts, size_t b, size_t e,
                                  size_t depth);
    GrammarBuilder& b_;
    std::vector<Seq> char_alts_;
    std::optional<Sym> ws_, string_, char_, number_, integer_, boolean_, null_, value_, object_,
        array_, member_;
};

// Text as a JSON string literal, quotes included (nlohmann's escaping).
std::string json_quote(const std::string& s);

}  // namespace lokal::grammar
