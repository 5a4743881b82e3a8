// The merge loop shared by SPM and BPE: a text cut into symbols (initially one UTF-8 character
// each) kept as a linked list, and a priority queue of candidate adjacent pairs. Popping the best
// pair, merging it and queueing the two new neighbour pairs costs O(log n), so long words are
// O(n log n), never O(n^2).
#pragma once

#include <cstdint>
#include <queue>
#include <string_view>
#include <vector>

#include "tokenizer/unicode.h"

namespace lokal::tokenizer {

struct Symbol {
    int32_t prev, next;
    uint32_t start, len;  // bytes of the text
};

// `Score(left, right) -> std::optional<Key>` rates merging two adjacent strings (nullopt: they do
// not merge); the pair with the smallest Key merges first, ties going to the leftmost pair.
template <typename Key, typename ScoreFn>
std::vector<Symbol> merge_symbols(std::string_view text, ScoreFn score) {
    std::vector<Symbol> sym;
    sym.reserve(text.size());
    for (size_t off = 0; off < text.size();) {
        const uint32_t len =
            static_cast<uint32_t>(std::min(utf8_len(text[off]), text.size() - off));
        const int32_t idx = static_cast<int32_t>(sym.size());
        sym.push_back(
            {idx - 1, off + len == text.size() ? -1 : idx + 1, static_cast<uint32_t>(off), len});
        off += len;
    }

    struct Cand {
        Key key;
        int32_t left, right;
        uint32_t size;
    };
    const auto worse = [](const Cand& a, const Cand& b) {
        return b.key < a.key || (!(a.key < b.key) && a.left > b.left);
    };
    std::priority_queue<Cand, std::vector<Cand>, decltype(worse)> queue(worse);
    const auto view = [&](int32_t i) { return text.substr(sym[i].start, sym[i].len); };
    const auto try_add = [&](int32_t l, int32_t r) {
        if (l < 0 || r < 0) return;
        if (auto k = score(view(l), view(r))) {
            queue.push({*k, l, r, sym[l].len + sym[r].len});
        }
    };
    for (int32_t i = 1; i < static_cast<int32_t>(sym.size()); ++i) try_add(i - 1, i);

    while (!queue.empty()) {
        const Cand c = queue.top();
        queue.pop();
        Symbol& l = sym[c.left];
        Symbol& r = sym[c.right];
        // Stale: one side already merged elsewhere.
        if (l.len == 0 || r.len == 0 || l.next != c.right || l.len + r.len != c.size) continue;
        l.len += r.len;
        r.len = 0;
        l.next = r.next;
        if (r.next >= 0) sym[r.next].prev = c.left;
        try_add(l.prev, c.left);
        try_add(c.left, l.next);
    }

    std::vector<Symbol> result;
    for (int32_t i = sym.empty() ? -1 : 0; i != -1; i = sym[i].next) result.push_back(sym[i]);
    return result;
}

}  // namespace lokal::tokenizer
