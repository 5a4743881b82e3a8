// A context-free grammar over bytes: rules with alternatives, each a sequence of byte classes
// (sets of bytes) and references to rules. This is what the matcher runs; JSON Schema and the
// plain JSON mode are compiled into it by GrammarBuilder users (json_grammar.h, json_schema.h).
//
// The grammar is stored flat for the matcher: `code` holds every alternative as a run of
// elements ending in an End element, so a parse position is one index into `code`.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace lokal::grammar {

// A set of bytes (256 bits).
struct ByteSet {
    std::array<uint64_t, 4> bits{};

    static ByteSet of(uint8_t b) {
        ByteSet s;
        s.add(b);
        return s;
    }
    static ByteSet range(uint8_t lo, uint8_t hi) {
        ByteSet s;
        s.add_range(lo, hi);
        return s;
    }
    void add(uint8_t b) { bits[b >> 6] |= uint64_t{1} << (b & 63); }
    void add_range(uint8_t lo, uint8_t hi) {
        for (unsigned b = lo; b <= hi; ++b) add(static_cast<uint8_t>(b));
    }
    bool has(uint8_t b) const { return (bits[b >> 6] >> (b & 63)) & 1; }
    bool empty() const { return !(bits[0] | bits[1] | bits[2] | bits[3]); }
    ByteSet operator|(const ByteSet& o) const {
        ByteSet s;
        for (int i = 0; i < 4; ++i) s.bits[i] = bits[i] | o.bits[i];
        return s;
    }
    ByteSet operator~() const {
        ByteSet s;
        for (int i = 0; i < 4; ++i) s.bits[i] = ~bits[i];
        return s;
    }
    bool operator==(const ByteSet&) const = default;
};

class Grammar {
  public:
    enum class Kind : uint8_t { Class, Rule, End };
    struct Element {
        Kind kind;
        uint32_t arg;  // Class: index into classes; Rule: rule id; End: owning rule id
    };

    const std::vector<Element>& code() const { return code_; }
    const ByteSet& byte_class(uint32_t i) const { return classes_[i]; }
    // Start positions (indices into code()) of the alternatives of rule r.
    const uint32_t* alts_begin(uint32_t r) const { return alt_starts_.data() + rule_alts_[r]; }
    const uint32_t* alts_end(uint32_t r) const { return alt_starts_.data() + rule_alts_[r + 1]; }
    uint32_t root() const { return root_; }
    size_t n_rules() const { return rule_names_.size(); }
    const std::string& rule_name(uint32_t r) const { return rule_names_[r]; }

    // GBNF-like listing, for debugging and error messages.
    std::string to_string() const;

  private:
    friend class GrammarBuilder;
    std::vector<Element> code_;
    std::vector<ByteSet> classes_;
    std::vector<uint32_t> alt_starts_;
    std::vector<uint32_t> rule_alts_;  // n_rules + 1 offsets into alt_starts_
    std::vector<std::string> rule_names_;
    uint32_t root_ = 0;
};

// One element of a sequence while building.
struct Sym {
    bool is_rule = false;
    uint32_t rule = 0;
    ByteSet set;
};
using Seq = std::vector<Sym>;

// Builds a Grammar. Rules may be declared first and given alternatives later (for recursion).
// build() checks the grammar: every rule has an alternative, no left recursion (which the
// matcher could not run), and a size limit; violations throw lokal::Error.
class GrammarBuilder {
  public:
    static constexpr size_t kMaxElements = 4'000'000;

    uint32_t declare(std::string name);
    void add_alt(uint32_t rule, Seq seq);
    uint32_t rule(std::string name, std::vector<Seq> alts);

    static Sym cls(ByteSet s) { return Sym{false, 0, s}; }
    static Sym byte(uint8_t b) { return cls(ByteSet::of(b)); }
    static Sym ref(uint32_t r) { return Sym{true, r, {}}; }
    static Seq literal(std::string_view s);

    // Helpers that make rules: a sequence or a choice as one symbol; x repeated min..max times
    // (max < 0: unbounded), made of right-recursive rules the matcher runs in constant depth.
    Sym seq(std::string name, Seq s);
    Sym choice(std::string name, std::vector<Seq> alts);
    Sym repeat(std::string name, const Seq& x, int64_t min, int64_t max);
    // Like repeat, for a choice of alternatives each repeated in place (no rule per item).
    Sym repeat_alts(std::string name, const std::vector<Seq>& alts, int64_t min, int64_t max);
    Sym optional(std::string name, const Seq& x) { return repeat(std::move(name), x, 0, 1); }

    size_t n_rules() const { return rules_.size(); }
    std::shared_ptr<const Grammar> build(uint32_t root) const;

  private:
    void count(size_t n);
    std::vector<std::string> names_;
    std::vector<std::vector<Seq>> rules_;
    size_t elements_ = 0;
};

}  // namespace lokal::grammar
