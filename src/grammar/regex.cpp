#include "grammar/regex.h"

#include <string>
#include <vector>

#include "base/error.h"

namespace lokal::grammar {

namespace {

constexpr int kMaxDepth = 100;
constexpr int64_t kMaxCount = 10000;

class RegexParser {
  public:
    RegexParser(JsonRules& json, std::string_view pattern)
        : json_(json), b_(json.builder()), p_(decode_utf8(pattern)), text_(pattern) {}

    Sym parse() {
        bool anchored_start = false, anchored_end = false;
        size_t end = p_.size();
        if (pos_ < end && p_[pos_] == '^') {
            anchored_start = true;
            ++pos_;
        }
        if (end > pos_ && p_[end - 1] == '$' && !(end >= 2 && p_[end - 2] == '\\')) {
            anchored_end = true;
            --end;
        }
        end_ = end;
        Seq s;
        const Sym anything = b_.repeat_alts("re-any", json_.string_char_alts(), 0, -1);
        if (!anchored_start) s.push_back(anything);
        s.push_back(alternation(0));
        if (pos_ != end_) fail("unbalanced ')'");
        if (!anchored_end) s.push_back(anything);
        return b_.seq("pattern", std::move(s));
    }

  private:
    [[noreturn]] void fail(const std::string& why) const {
        throw Error("unsupported or invalid pattern \"" + std::string(text_) + "\": " + why);
    }
    bool more() const { return pos_ < end_; }
    uint32_t peek() const { return p_[pos_]; }

    Sym alternation(int depth) {
        if (depth > kMaxDepth) fail("nested too deeply");
        std::vector<Seq> alts;
        alts.push_back(sequence(depth));
        while (more() && peek() == '|') {
            ++pos_;
            alts.push_back(sequence(depth));
        }
        if (alts.size() == 1) return b_.seq("re-seq", std::move(alts[0]));
        return b_.choice("re-alt", std::move(alts));
    }

    Seq sequence(int depth) {
        Seq s;
        while (more() && peek() != '|' && peek() != ')') {
            Sym atom_sym = atom(depth);
            s.push_back(quantified(atom_sym));
        }
        return s;
    }

    int64_t number() {
        if (!more() || peek() < '0' || peek() > '9') fail("expected a number in {}");
        int64_t n = 0;
        while (more() && peek() >= '0' && peek() <= '9') {
            n = n * 10 + (peek() - '0');
            if (n > kMaxCount) fail("repetition count too large");
            ++pos_;
        }
        return n;
    }

    Sym quantified(const Sym& atom_sym) {
        if (!more()) return atom_sym;
        int64_t min = 1, max = 1;
        const uint32_t c = peek();
        if (c == '*') {
            min = 0, max = -1;
        } else if (c == '+') {
            min = 1, max = -1;
        } else if (c == '?') {
            min = 0, max = 1;
        } else if (c == '{') {
            ++pos_;
            min = number();
            max = min;
            if (more() && peek() == ',') {
                ++pos_;
                max = more() && peek() == '}' ? -1 : number();
            }
            if (!more() || peek() != '}') fail("expected '}'");
            if (max >= 0 && max < min) fail("{n,m} with m < n");
        } else {
            return atom_sym;
        }
        ++pos_;
        if (more() && peek() == '?') ++pos_;  // lazy: same language
        if (more() && (peek() == '+' || peek() == '*' || peek() == '{')) fail("nested quantifier");
        return b_.repeat("re-rep", {atom_sym}, min, max);
    }

    static CodepointSet digit() { return CodepointSet::range('0', '9'); }
    static CodepointSet word() {
        CodepointSet s = CodepointSet::range('a', 'z');
        s.add('A', 'Z');
        s.add('0', '9');
        s.add('_', '_');
        return s;
    }
    static CodepointSet space() {
        CodepointSet s = CodepointSet::range('\t', '\r');
        s.add(' ', ' ');
        s.add(0xA0, 0xA0);
        s.add(0x2028, 0x2029);
        s.add(0xFEFF, 0xFEFF);
        return s;
    }

    uint32_t hex(int n) {
        uint32_t v = 0;
        for (int i = 0; i < n; ++i) {
            if (!more()) fail("short hex escape");
            const uint32_t c = peek();
            int d = c >= '0' && c <= '9'   ? int(c - '0')
                    : c >= 'a' && c <= 'f' ? int(c - 'a' + 10)
                    : c >= 'A' && c <= 'F' ? int(c - 'A' + 10)
                                           : -1;
            if (d < 0) fail("bad hex escape");
            v = v * 16 + static_cast<uint32_t>(d);
            ++pos_;
        }
        return v;
    }

    // After a backslash: a class escape (\d ...) into `set` and returns true, or a single
    // character into `cp` and returns false.
    bool escape(CodepointSet& set, uint32_t& cp) {
        if (!more()) fail("trailing backslash");
        const uint32_t c = peek();
        ++pos_;
        switch (c) {
            case 'd':
                set = digit();
                return true;
            case 'D':
                set = digit().complement();
                return true;
            case 'w':
                set = word();
                return true;
            case 'W':
                set = word().complement();
                return true;
            case 's':
                set = space();
                return true;
            case 'S':
                set = space().complement();
                return true;
            case 'n':
                cp = '\n';
                return false;
            case 't':
                cp = '\t';
                return false;
            case 'r':
                cp = '\r';
                return false;
            case 'f':
                cp = '\f';
                return false;
            case 'v':
                cp = '\v';
                return false;
            case '0':
                cp = 0;
                return false;
            case 'x':
                cp = hex(2);
                return false;
            case 'u':
                cp = hex(4);
                return false;
            case 'b':
            case 'B':
                fail("word boundaries are not supported");
            default:
                if (c >= '1' && c <= '9') fail("backreferences are not supported");
                if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
                    fail(std::string("unknown escape \\") + static_cast<char>(c));
                }
                cp = c;
                return false;
        }
    }

    CodepointSet char_class() {
        bool negate = false;
        if (more() && peek() == '^') {
            negate = true;
            ++pos_;
        }
        CodepointSet set;
        bool first = true;
        while (more() && (peek() != ']' || first)) {
            first = false;
            uint32_t lo = peek();
            ++pos_;
            if (lo == '\\') {
                CodepointSet cls;
                if (escape(cls, lo)) {
                    set.add(cls);
                    continue;
                }
            }
            uint32_t hi = lo;
            if (pos_ + 1 < end_ && peek() == '-' && p_[pos_ + 1] != ']') {
                ++pos_;
                hi = peek();
                ++pos_;
                if (hi == '\\') {
                    CodepointSet cls;
                    if (escape(cls, hi)) fail("class escape as a range end");
                }
                if (hi < lo) fail("range out of order in []");
            }
            set.add(lo, hi);
        }
        if (!more()) fail("unterminated [");
        ++pos_;  // ']'
        return negate ? set.complement() : set;
    }

    Sym atom(int depth) {
        const uint32_t c = peek();
        ++pos_;
        switch (c) {
            case '(': {
                if (more() && peek() == '?') {
                    ++pos_;
                    if (more() && peek() == ':') {
                        ++pos_;
                    } else if (more() && peek() == '<' && pos_ + 1 < end_ && p_[pos_ + 1] != '=' &&
                               p_[pos_ + 1] != '!') {
                        while (more() && peek() != '>') ++pos_;  // named group
                        if (!more()) fail("unterminated group name");
                        ++pos_;
                    } else {
                        fail("lookaround and inline flags are not supported");
                    }
                }
                Sym inner = alternation(depth + 1);
                if (!more() || peek() != ')') fail("missing ')'");
                ++pos_;
                return inner;
            }
            case '[':
                return json_.char_of(char_class());
            case '.': {
                CodepointSet s = CodepointSet::all();
                s = s.minus(CodepointSet::range('\n', '\n')).minus(CodepointSet::range('\r', '\r'));
                s = s.minus(CodepointSet::range(0x2028, 0x2029));
                return json_.char_of(s);
            }
            case '\\': {
                CodepointSet set;
                uint32_t cp = 0;
                if (!escape(set, cp)) set = CodepointSet::range(cp, cp);
                return json_.char_of(set);
            }
            case '*':
            case '+':
            case '?':
            case '{':
                fail("quantifier without anything to repeat");
            case '^':
            case '$':
                fail("anchors are supported only at the ends");
            default:
                return json_.char_of(CodepointSet::range(c, c));
        }
    }

    JsonRules& json_;
    GrammarBuilder& b_;
    std::vector<uint32_t> p_;
    std::string_view text_;
    size_t pos_ = 0, end_ = 0;
};

}  // namespace

Sym regex_to_rules(JsonRules& json, std::string_view pattern) {
    return RegexParser(json, pattern).parse();
}

}  // namespace lokal::grammar
