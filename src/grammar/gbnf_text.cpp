#include "grammar/gbnf_text.h"

#include <map>
#include <optional>
#include <set>
#include <string>

#include "base/error.h"
#include "grammar/utf8_ranges.h"
#include "tokenizer/unicode.h"

namespace lokal::grammar {
namespace {

constexpr size_t kMaxText = 1 << 20;
constexpr int64_t kMaxRepeat = 10000;
constexpr int kMaxNesting = 200;

bool is_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

class GbnfParser {
  public:
    explicit GbnfParser(std::string_view text) : s_(text) {}

    std::shared_ptr<const Grammar> parse(std::string_view root) {
        skip_space();
        if (eof()) fail("the grammar is empty");
        while (!eof()) {
            const size_t at = pos_;
            const std::string name = parse_name();
            skip_space();
            if (!s_.substr(pos_).starts_with("::="))
                fail("expected '::=' after rule name '" + name + "'");
            pos_ += 3;
            if (!defined_.insert(name).second) fail_at(at, "rule '" + name + "' is defined twice");
            const uint32_t id = rule_id(name, at);
            for (Seq& alt : parse_alternatives(false, name, 0)) b_.add_alt(id, std::move(alt));
            skip_space();
        }
        for (const auto& [name, at] : first_use_) {
            if (!defined_.count(name)) fail_at(at, "undefined rule '" + name + "'");
        }
        const auto root_it = ids_.find(std::string(root));
        if (root_it == ids_.end() || !defined_.count(std::string(root))) {
            throw Error("GBNF: the grammar has no '" + std::string(root) + "' rule to start from");
        }
        try {
            return b_.build(root_it->second);
        } catch (const Error& e) {
            throw Error(std::string("GBNF: ") + e.what());
        }
    }

  private:
    bool eof() const { return pos_ >= s_.size(); }
    char peek() const { return eof() ? '\0' : s_[pos_]; }

    [[noreturn]] void fail_at(size_t at, const std::string& what) const {
        int line = 1, col = 1;
        for (size_t i = 0; i < at && i < s_.size(); ++i) {
            if (s_[i] == '\n') {
                ++line;
                col = 1;
            } else {
                ++col;
            }
        }
        throw Error("GBNF line " + std::to_string(line) + ", column " + std::to_string(col) + ": " +
                    what);
    }
    [[noreturn]] void fail(const std::string& what) const { fail_at(pos_, what); }

    // Spaces, newlines and # comments.
    void skip_space() {
        while (!eof()) {
            const char c = peek();
            if (c == '#') {
                while (!eof() && peek() != '\n') ++pos_;
            } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
                ++pos_;
            } else {
                break;
            }
        }
    }

    std::string parse_name() {
        const size_t start = pos_;
        while (!eof() && is_name_char(peek())) ++pos_;
        if (pos_ == start) fail(eof() ? "unexpected end of the grammar" : "expected a rule name");
        return std::string(s_.substr(start, pos_ - start));
    }

    // At "name ::=": the start of the next rule, which ends the current one.
    bool at_rule_start() const {
        size_t p = pos_;
        while (p < s_.size() && is_name_char(s_[p])) ++p;
        if (p == pos_) return false;
        while (p < s_.size() && (s_[p] == ' ' || s_[p] == '\t')) ++p;
        return s_.substr(p).starts_with("::=");
    }

    uint32_t rule_id(const std::string& name, size_t at) {
        auto it = ids_.find(name);
        if (it != ids_.end()) return it->second;
        first_use_.emplace(name, at);
        const uint32_t id = b_.declare(name);
        ids_.emplace(name, id);
        return id;
    }

    std::string fresh_name(const std::string& base) {
        return base + "-" + std::to_string(++generated_);
    }

    std::vector<Seq> parse_alternatives(bool nested, const std::string& rule, int depth) {
        if (depth > kMaxNesting) fail("parentheses nested too deeply");
        std::vector<Seq> alts;
        alts.push_back(parse_sequence(nested, rule, depth));
        while (peek() == '|') {
            ++pos_;
            alts.push_back(parse_sequence(nested, rule, depth));
        }
        return alts;
    }

    Seq parse_sequence(bool nested, const std::string& rule, int depth) {
        Seq seq;
        for (;;) {
            skip_space();
            if (peek() == ')' && !nested) fail("unbalanced ')'");
            if (eof() || peek() == '|' || peek() == ')') break;
            if (!nested && at_rule_start()) break;
            Seq term = parse_term(rule, depth);
            skip_space();
            const char c = peek();
            if (c == '*' || c == '+' || c == '?' || c == '{') {
                const auto [lo, hi] = parse_repetition();
                seq.push_back(b_.repeat(fresh_name(rule), term, lo, hi));
            } else {
                seq.insert(seq.end(), term.begin(), term.end());
            }
        }
        if (nested && eof()) fail("unbalanced '(': missing ')'");
        return seq;
    }

    std::pair<int64_t, int64_t> parse_repetition() {
        const char c = peek();
        ++pos_;
        if (c == '*') return {0, -1};
        if (c == '+') return {1, -1};
        if (c == '?') return {0, 1};
        skip_space();
        const int64_t lo = parse_count();
        int64_t hi = lo;
        skip_space();
        if (peek() == ',') {
            ++pos_;
            skip_space();
            hi = peek() == '}' ? -1 : parse_count();
            skip_space();
        }
        if (peek() != '}') fail("expected '}' to close the repetition");
        ++pos_;
        if (hi >= 0 && hi < lo) fail("repetition {m,n} needs m <= n");
        return {lo, hi};
    }

    int64_t parse_count() {
        if (!(peek() >= '0' && peek() <= '9')) fail("expected a number in the repetition");
        int64_t v = 0;
        while (peek() >= '0' && peek() <= '9') {
            v = v * 10 + (peek() - '0');
            if (v > kMaxRepeat) fail("repetition count over " + std::to_string(kMaxRepeat));
            ++pos_;
        }
        return v;
    }

    Seq parse_term(const std::string& rule, int depth) {
        const char c = peek();
        if (c == '"') return parse_literal();
        if (c == '[') return {parse_class(rule)};
        if (c == '.') {
            ++pos_;
            return {any_char()};
        }
        if (c == '(') {
            ++pos_;
            std::vector<Seq> alts = parse_alternatives(true, rule, depth + 1);
            if (peek() != ')') fail("expected ')'");
            ++pos_;
            if (alts.size() == 1) return alts[0];
            return {b_.choice(fresh_name(rule), alts)};
        }
        if (is_name_char(c)) {
            const size_t at = pos_;
            const std::string name = parse_name();
            return {GrammarBuilder::ref(rule_id(name, at))};
        }
        if (c == ')') fail("unbalanced ')'");
        fail(std::string("unexpected character '") + c + "'");
    }

    // One character of a literal or class: an escape or a UTF-8 sequence, as a code point.
    uint32_t parse_char() {
        if (eof()) fail("unterminated string or character class");
        const unsigned char c = (unsigned char)peek();
        if (c == '\\') {
            ++pos_;
            if (eof()) fail("unterminated escape");
            const char e = peek();
            ++pos_;
            switch (e) {
                case 'n':
                    return '\n';
                case 'r':
                    return '\r';
                case 't':
                    return '\t';
                case '0':
                    return 0;
                case '\\':
                case '"':
                case '\'':
                case '[':
                case ']':
                case '-':
                case '^':
                    return (unsigned char)e;
                case 'x':
                    return parse_hex(2);
                case 'u':
                    return parse_hex(4);
                case 'U':
                    return parse_hex(8);
                default:
                    fail(std::string("unknown escape '\\") + e + "'");
            }
        }
        // UTF-8: decode one sequence (invalid bytes stand for themselves).
        int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
        if (pos_ + len > s_.size()) len = 1;
        const std::vector<uint32_t> cps = decode_utf8(s_.substr(pos_, len));
        pos_ += len;
        return cps.empty() ? c : cps[0];
    }

    uint32_t parse_hex(int digits) {
        uint32_t v = 0;
        for (int i = 0; i < digits; ++i) {
            const char h = peek();
            int d;
            if (h >= '0' && h <= '9') {
                d = h - '0';
            } else if (h >= 'a' && h <= 'f') {
                d = h - 'a' + 10;
            } else if (h >= 'A' && h <= 'F') {
                d = h - 'A' + 10;
            } else {
                fail("expected " + std::to_string(digits) + " hex digits in the escape");
            }
            v = v * 16 + (uint32_t)d;
            ++pos_;
        }
        if (v > kMaxCodepoint) fail("code point out of range");
        return v;
    }

    Seq parse_literal() {
        ++pos_;  // "
        std::string bytes;
        while (peek() != '"') {
            if (eof()) fail("unterminated string");
            const size_t before = pos_;
            const bool escaped = peek() == '\\';
            const uint32_t cp = parse_char();
            if (!escaped) {
                bytes.append(s_.substr(before, pos_ - before));  // the bytes as written
            } else if (cp < 0x100 && s_[before + 1] == 'x') {
                bytes += (char)cp;  // \xHH is a byte
            } else {
                tokenizer::utf8_append(bytes, cp);
            }
        }
        ++pos_;
        return GrammarBuilder::literal(bytes);
    }

    Sym parse_class(const std::string& rule) {
        ++pos_;  // [
        bool negated = false;
        if (peek() == '^') {
            negated = true;
            ++pos_;
        }
        CodepointSet set;
        while (peek() != ']') {
            if (eof()) fail("unterminated character class");
            const uint32_t lo = parse_char();
            uint32_t hi = lo;
            if (peek() == '-' && pos_ + 1 < s_.size() && s_[pos_ + 1] != ']') {
                ++pos_;
                hi = parse_char();
                if (hi < lo) fail("character range out of order");
            }
            set.add(lo, hi);
        }
        ++pos_;
        if (negated) set = set.complement();
        if (set.empty()) fail("the character class matches nothing");
        return code_points(set, rule);
    }

    Sym code_points(const CodepointSet& set, const std::string& rule) {
        const auto& r = set.ranges();
        if (r.back().hi < 0x80) {
            ByteSet bytes;
            for (const auto& range : r) bytes.add_range((uint8_t)range.lo, (uint8_t)range.hi);
            return GrammarBuilder::cls(bytes);
        }
        return b_.choice(fresh_name(rule), utf8_alternatives(set));
    }

    Sym any_char() {
        if (!dot_) dot_ = b_.choice("any-char", utf8_alternatives(CodepointSet::all()));
        return *dot_;
    }

    std::string_view s_;
    size_t pos_ = 0;
    GrammarBuilder b_;
    std::map<std::string, uint32_t> ids_;
    std::map<std::string, size_t> first_use_;
    std::set<std::string> defined_;
    std::optional<Sym> dot_;
    int generated_ = 0;
};

}  // namespace

std::shared_ptr<const Grammar> parse_gbnf(std::string_view text, std::string_view root) {
    if (text.size() > kMaxText) {
        throw Error("GBNF: the grammar is " + std::to_string(text.size()) +
                    " bytes; at most 1 MiB is accepted");
    }
    return GbnfParser(text).parse(root);
}

}  // namespace lokal::grammar
