#include "grammar/json_rules.h"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace lokal::grammar {

namespace {
using B = GrammarBuilder;

Sym digit() {
    return B::cls(ByteSet::range('0', '9'));
}

ByteSet hex_set() {
    return ByteSet::range('0', '9') | ByteSet::range('a', 'f') | ByteSet::range('A', 'F');
}

ByteSet bytes_of(std::string_view s) {
    ByteSet set;
    for (char c : s) set.add(static_cast<uint8_t>(c));
    return set;
}
}  // namespace

std::string json_quote(const std::string& s) {
    return nlohmann::json(s).dump();
}

Sym JsonRules::ws() {
    if (!ws_) {
        // At most one line break, then indentation: pretty-printed JSON fits, runs of blank
        // lines (which small models fall into) do not.
        const Sym newline = b_.optional("ws-newline", {B::byte('\n')});
        const Sym indent = b_.repeat("ws-indent", {B::cls(bytes_of(" \t"))}, 0, kMaxWhitespace);
        ws_ = b_.seq("ws", {newline, indent});
    }
    return *ws_;
}

Sym JsonRules::string_char() {
    if (char_) return *char_;
    // Raw characters: anything but '"', '\\' and control characters.
    CodepointSet raw = CodepointSet::all().minus(CodepointSet::range(0, 0x1F));
    raw = raw.minus(CodepointSet::range('"', '"')).minus(CodepointSet::range('\\', '\\'));
    std::vector<Seq> alts = utf8_alternatives(raw);
    // Escapes: \" \\ \/ \b \f \n \r \t, \uXXXX (not a surrogate), or a surrogate pair.
    const Sym hex = B::cls(hex_set());
    const Sym d = B::cls(bytes_of("dD"));
    const Sym lead_non_surrogate = B::cls(bytes_of("0123456789abcefABCEF"));
    std::vector<Seq> esc = {
        {B::cls(bytes_of("\"\\/bfnrt"))},
        {B::byte('u'), lead_non_surrogate, hex, hex, hex},
        {B::byte('u'), d, B::cls(ByteSet::range('0', '7')), hex, hex},
        {B::byte('u'), d, B::cls(bytes_of("89abAB")), hex, hex, B::byte('\\'), B::byte('u'), d,
         B::cls(bytes_of("cdefCDEF")), hex, hex},
    };
    const Sym escape = b_.choice("escape", std::move(esc));
    alts.push_back({B::byte('\\'), escape});
    char_alts_ = alts;
    char_ = b_.choice("char", std::move(alts));
    return *char_;
}

Sym JsonRules::string() {
    if (!string_) {
        string_char();
        const Sym chars = b_.repeat_alts("chars", char_alts_, 0, -1);
        string_ = b_.seq("string", {B::byte('"'), chars, B::byte('"')});
    }
    return *string_;
}

Sym JsonRules::char_of(const CodepointSet& set) {
    CodepointSet raw = set.minus(CodepointSet::range(0, 0x1F));
    raw = raw.minus(CodepointSet::range('"', '"')).minus(CodepointSet::range('\\', '\\'));
    std::vector<Seq> alts = utf8_alternatives(raw);
    std::string short_escapes;
    const std::pair<uint32_t, char> escapes[] = {
        {'"', '"'}, {'\\', '\\'}, {'\b', 'b'}, {'\f', 'f'}, {'\n', 'n'}, {'\r', 'r'}, {'\t', 't'}};
    for (auto [cp, c] : escapes) {
        if (set.contains(cp)) short_escapes += c;
    }
    if (!short_escapes.empty()) alts.push_back({B::byte('\\'), B::cls(bytes_of(short_escapes))});
    if (alts.empty()) return B::cls(ByteSet{});  // matches nothing
    return b_.choice("char-class", std::move(alts));
}

Sym JsonRules::excluding(const std::vector<std::vector<uint32_t>>& names, size_t b, size_t e,
                         size_t depth, const Sym& rest) {
    // names[b..e) share their first `depth` code points (the input so far).
    std::vector<Seq> alts;
    size_t i = b;
    if (i < e && names[i].size() == depth) {
        ++i;  // the input so far is a name: it must go on
    } else {
        alts.push_back({});
    }
    CodepointSet taken;
    while (i < e) {
        const uint32_t c = names[i][depth];
        size_t j = i;
        while (j < e && names[j][depth] == c) ++j;
        taken.add(c, c);
        alts.push_back(
            {char_of(CodepointSet::range(c, c)), excluding(names, i, j, depth + 1, rest)});
        i = j;
    }
    const CodepointSet other = CodepointSet::all().minus(taken);
    alts.push_back({char_of(other), rest});
    return b_.choice("key-not", std::move(alts));
}

Sym JsonRules::string_excluding(const std::vector<std::string>& names) {
    std::vector<std::vector<uint32_t>> cps;
    cps.reserve(names.size());
    for (const std::string& n : names) cps.push_back(decode_utf8(n));
    std::sort(cps.begin(), cps.end());
    cps.erase(std::unique(cps.begin(), cps.end()), cps.end());
    const Sym any = char_of(CodepointSet::all());
    const Sym rest = b_.repeat("key-rest", {any}, 0, -1);
    return b_.seq("key-other",
                  {B::byte('"'), excluding(cps, 0, cps.size(), 0, rest), B::byte('"')});
}

Sym JsonRules::integer() {
    if (!integer_) {
        const Sym nonzero = b_.seq("int-nonzero", {B::cls(ByteSet::range('1', '9')),
                                                   b_.repeat("int-digits", {digit()}, 0, 18)});
        const Sym magnitude = b_.choice("int-magnitude", {{B::byte('0')}, {nonzero}});
        integer_ = b_.choice("integer", {{magnitude}, {B::byte('-'), magnitude}});
    }
    return *integer_;
}

Sym JsonRules::number() {
    if (!number_) {
        const Sym frac =
            b_.optional("frac", {B::byte('.'), b_.repeat("frac-digits", {digit()}, 1, 18)});
        const Sym exp = b_.optional(
            "exp", {B::cls(bytes_of("eE")), b_.optional("exp-sign", {B::cls(bytes_of("+-"))}),
                    b_.repeat("exp-digits", {digit()}, 1, 3)});
        number_ = b_.seq("number", {integer(), frac, exp});
    }
    return *number_;
}

Sym JsonRules::boolean() {
    if (!boolean_) boolean_ = b_.choice("boolean", {B::literal("true"), B::literal("false")});
    return *boolean_;
}

Sym JsonRules::null() {
    if (!null_) null_ = b_.seq("null", B::literal("null"));
    return *null_;
}

Sym JsonRules::array_of(const Sym& item, int64_t min, int64_t max) {
    const Sym sep = ws();
    Seq body = {B::byte('['), sep};
    if (max != 0) {
        const int64_t rest_min = std::max<int64_t>(min - 1, 0);
        const int64_t rest_max = max < 0 ? -1 : max - 1;
        const Sym more =
            b_.repeat("items-more", {B::byte(','), sep, item, sep}, rest_min, rest_max);
        const Seq items = {item, sep, more};
        if (min >= 1) {
            body.insert(body.end(), items.begin(), items.end());
        } else {
            body.push_back(b_.optional("items", items));
        }
    }
    body.push_back(B::byte(']'));
    return b_.seq("array", std::move(body));
}

Sym JsonRules::object_of(const Sym& member) {
    const Sym sep = ws();
    const Sym more = b_.repeat("members-more", {B::byte(','), sep, member, sep}, 0, -1);
    const Sym members = b_.optional("members", {member, sep, more});
    return b_.seq("object", {B::byte('{'), sep, members, B::byte('}')});
}

Sym JsonRules::value() {
    if (value_) return *value_;
    // Declared first: objects and arrays contain values.
    const uint32_t v = b_.declare("value");
    value_ = B::ref(v);
    object_ = object_of(b_.seq("member", {string(), ws(), B::byte(':'), ws(), *value_}));
    array_ = array_of(*value_, 0, -1);
    for (const Sym& s : {*object_, *array_, string(), number(), boolean(), null()}) {
        b_.add_alt(v, {s});
    }
    return *value_;
}

Sym JsonRules::object() {
    value();
    return *object_;
}

Sym JsonRules::array() {
    value();
    return *array_;
}

std::vector<Seq> JsonRules::literal_alts(std::vector<std::string>& texts, size_t b, size_t e,
                                         size_t depth) {
    std::vector<Seq> alts;
    size_t i = b;
    if (i < e && texts[i].size() == depth) {
        alts.push_back({});
        ++i;
    }
    while (i < e) {
        const char c = texts[i][depth];
        size_t j = i;
        while (j < e && texts[j][depth] == c) ++j;
        // Longest common prefix of texts[i..j) from depth.
        size_t lcp = texts[i].size();
        for (size_t k = i + 1; k < j; ++k) {
            size_t m = depth;
            while (m < lcp && m < texts[k].size() && texts[k][m] == texts[i][m]) ++m;
            lcp = m;
        }
        Seq s = B::literal(std::string_view(texts[i]).substr(depth, lcp - depth));
        if (j - i > 1 || texts[i].size() > lcp) {
            s.push_back(b_.choice("lit", literal_alts(texts, i, j, lcp)));
        }
        alts.push_back(std::move(s));
        i = j;
    }
    return alts;
}

Sym JsonRules::literal_choice(std::vector<std::string> texts) {
    std::sort(texts.begin(), texts.end());
    texts.erase(std::unique(texts.begin(), texts.end()), texts.end());
    return b_.choice("literal", literal_alts(texts, 0, texts.size(), 0));
}

}  // namespace lokal::grammar
