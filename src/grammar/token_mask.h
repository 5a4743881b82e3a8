// The set of tokens a matcher state allows: tokens whose bytes it can accept, found by walking
// the vocabulary trie from that state and skipping every subtree whose prefix is rejected.
//
// The walk memoizes transitions: a state whose stacks all return into frames that existed
// before the walk (the usual case inside strings, numbers and keys, where the grammar repeats
// by tail calls) is interned, and its successor on each byte is computed once per mask. Most
// trie nodes then cost one table lookup.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "grammar/matcher.h"
#include "grammar/token_trie.h"

namespace lokal::grammar {

// Reusable buffers for compute_token_mask (so a decoding loop allocates little).
struct MaskScratch {
    struct Level {
        int32_t state;  // interned state, or -1: the tops are tops[begin..end)
        uint32_t begin, end, arena;
    };
    struct State {
        uint32_t begin, end;  // in state_tops
        bool accepting;
    };
    std::vector<StackNode> tops, tmp, state_tops;
    std::vector<Level> levels;
    std::vector<State> states;
    std::vector<int32_t> next;  // states.size() * 256 transitions
    std::unordered_map<std::string, int32_t> index;
};

// allowed[id] = 1 for tokens whose piece `m` can accept, plus the end-of-generation tokens when
// `m` is accepting; 0 for the rest. Resized to trie.n_vocab().
void compute_token_mask(const Matcher& m, const TokenTrie& trie, std::vector<uint8_t>& allowed,
                        MaskScratch& scratch);

}  // namespace lokal::grammar
