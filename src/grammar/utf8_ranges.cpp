#include "grammar/utf8_ranges.h"

#include <algorithm>

namespace lokal::grammar {

CodepointSet CodepointSet::range(uint32_t lo, uint32_t hi) {
    CodepointSet s;
    s.add(lo, hi);
    return s;
}

void CodepointSet::add(uint32_t lo, uint32_t hi) {
    if (lo > hi) return;
    hi = std::min(hi, kMaxCodepoint);
    std::vector<CodepointRange> out;
    bool placed = false;
    for (const CodepointRange& r : ranges_) {
        if (r.hi + 1 < lo) {
            out.push_back(r);
        } else if (hi + 1 < r.lo) {
            if (!placed) out.push_back({lo, hi});
            placed = true;
            out.push_back(r);
        } else {
            lo = std::min(lo, r.lo);
            hi = std::max(hi, r.hi);
        }
    }
    if (!placed) out.push_back({lo, hi});
    ranges_ = std::move(out);
}

void CodepointSet::add(const CodepointSet& o) {
    for (const CodepointRange& r : o.ranges_) add(r.lo, r.hi);
}

CodepointSet CodepointSet::complement() const {
    CodepointSet s;
    uint32_t next = 0;
    for (const CodepointRange& r : ranges_) {
        if (r.lo > next) s.ranges_.push_back({next, r.lo - 1});
        next = r.hi + 1;
    }
    if (next <= kMaxCodepoint) s.ranges_.push_back({next, kMaxCodepoint});
    return s;
}

CodepointSet CodepointSet::minus(const CodepointSet& o) const {
    CodepointSet keep = o.complement();
    CodepointSet s;
    for (const CodepointRange& a : ranges_) {
        for (const CodepointRange& b : keep.ranges_) {
            const uint32_t lo = std::max(a.lo, b.lo), hi = std::min(a.hi, b.hi);
            if (lo <= hi) s.ranges_.push_back({lo, hi});
        }
    }
    return s;
}

bool CodepointSet::contains(uint32_t cp) const {
    for (const CodepointRange& r : ranges_) {
        if (cp >= r.lo && cp <= r.hi) return true;
    }
    return false;
}

namespace {

void encode(uint32_t cp, int n, uint8_t* out) {
    static const uint8_t lead[5] = {0, 0, 0xC0, 0xE0, 0xF0};
    for (int i = n - 1; i > 0; --i) {
        out[i] = static_cast<uint8_t>(0x80 | (cp & 0x3F));
        cp >>= 6;
    }
    out[0] = static_cast<uint8_t>(n == 1 ? cp : (lead[n] | cp));
}

// lo..hi all encode in n bytes: splits until every byte position is an independent range.
void emit(uint32_t lo, uint32_t hi, int n, std::vector<std::vector<ByteSet>>& out) {
    for (int i = 1; i < n; ++i) {
        const uint32_t mask = (uint32_t{1} << (6 * i)) - 1;
        if ((lo & ~mask) != (hi & ~mask)) {
            if ((lo & mask) != 0) {
                emit(lo, lo | mask, n, out);
                emit((lo | mask) + 1, hi, n, out);
                return;
            }
            if ((hi & mask) != mask) {
                emit(lo, (hi & ~mask) - 1, n, out);
                emit(hi & ~mask, hi, n, out);
                return;
            }
        }
    }
    uint8_t a[4], b[4];
    encode(lo, n, a);
    encode(hi, n, b);
    std::vector<ByteSet> seq;
    for (int i = 0; i < n; ++i) seq.push_back(ByteSet::range(a[i], b[i]));
    out.push_back(std::move(seq));
}

void emit_range(uint32_t lo, uint32_t hi, std::vector<std::vector<ByteSet>>& out) {
    static const uint32_t bounds[] = {0x7F, 0x7FF, 0xFFFF, kMaxCodepoint};
    for (int n = 1; n <= 4 && lo <= hi; ++n) {
        const uint32_t top = std::min(hi, bounds[n - 1]);
        if (lo <= top) {
            // Skip the surrogates in the 3-byte range.
            if (n == 3 && lo <= 0xDFFF && top >= 0xD800) {
                if (lo < 0xD800) emit(lo, 0xD7FF, 3, out);
                if (top > 0xDFFF) emit(0xE000, top, 3, out);
            } else {
                emit(lo, top, n, out);
            }
            lo = top + 1;
        }
    }
}

}  // namespace

std::vector<uint32_t> decode_utf8(std::string_view s) {
    std::vector<uint32_t> out;
    for (size_t i = 0; i < s.size();) {
        const auto c = static_cast<uint8_t>(s[i]);
        int n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (n == 0 || i + static_cast<size_t>(n) > s.size()) {
            out.push_back(c);
            ++i;
            continue;
        }
        uint32_t cp = n == 1 ? c : c & (0x7F >> n);
        for (int k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<uint8_t>(s[i + k]) & 0x3F);
        out.push_back(cp);
        i += static_cast<size_t>(n);
    }
    return out;
}

std::vector<Seq> utf8_alternatives(const CodepointSet& set) {
    std::vector<std::vector<ByteSet>> alts;
    for (const CodepointRange& r : set.ranges()) emit_range(r.lo, r.hi, alts);
    // Merge alternatives of the same length that differ in exactly one position.
    for (bool merged = true; merged;) {
        merged = false;
        for (size_t i = 0; i < alts.size() && !merged; ++i) {
            for (size_t j = i + 1; j < alts.size() && !merged; ++j) {
                if (alts[i].size() != alts[j].size()) continue;
                int diff = -1, ndiff = 0;
                for (size_t k = 0; k < alts[i].size(); ++k) {
                    if (!(alts[i][k] == alts[j][k])) {
                        diff = static_cast<int>(k);
                        ++ndiff;
                    }
                }
                if (ndiff <= 1) {
                    if (diff >= 0) alts[i][diff] = alts[i][diff] | alts[j][diff];
                    alts.erase(alts.begin() + static_cast<std::ptrdiff_t>(j));
                    merged = true;
                }
            }
        }
    }
    std::vector<Seq> out;
    for (const auto& a : alts) {
        Seq s;
        for (const ByteSet& b : a) s.push_back(GrammarBuilder::cls(b));
        out.push_back(std::move(s));
    }
    return out;
}

}  // namespace lokal::grammar
