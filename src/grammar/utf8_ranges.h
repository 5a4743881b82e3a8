// Sets of Unicode code points and the byte sequences of their UTF-8 encodings, as grammar
// alternatives. Surrogates (U+D800..U+DFFF) are never encoded.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "grammar/grammar.h"

namespace lokal::grammar {

inline constexpr uint32_t kMaxCodepoint = 0x10FFFF;

struct CodepointRange {
    uint32_t lo, hi;  // inclusive
};

// Sorted, disjoint, non-adjacent ranges.
class CodepointSet {
  public:
    CodepointSet() = default;
    static CodepointSet all() { return range(0, kMaxCodepoint); }
    static CodepointSet range(uint32_t lo, uint32_t hi);

    void add(uint32_t lo, uint32_t hi);
    void add(const CodepointSet& o);
    CodepointSet complement() const;
    CodepointSet minus(const CodepointSet& o) const;
    bool contains(uint32_t cp) const;
    bool empty() const { return ranges_.empty(); }
    const std::vector<CodepointRange>& ranges() const { return ranges_; }

  private:
    std::vector<CodepointRange> ranges_;
};

// Decodes UTF-8 into code points (bytes that do not form a sequence are taken as Latin-1).
std::vector<uint32_t> decode_utf8(std::string_view s);

// Alternatives matching the UTF-8 encoding of exactly the code points in `set`; alternatives
// differing in one position are merged into one.
std::vector<Seq> utf8_alternatives(const CodepointSet& set);

}  // namespace lokal::grammar
