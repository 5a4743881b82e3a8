// The set of tokens a matcher state allows: tokens whose bytes it can accept, found by walking
// the vocabulary trie from that state and skipping every subtree whose prefix is rejected.
#pragma once

#include <cstdint>
#include <vector>

#include "grammar/matcher.h"
#include "grammar/token_trie.h"

namespace lokal::grammar {

// Reusable buffers for compute_token_mask (so a decoding loop allocates once).
struct MaskScratch {
    std::vector<int32_t> tops;
    struct Level {
        uint32_t begin, end, arena;
    };
    std::vector<Level> levels;
};

// allowed[id] = 1 for tokens whose piece `m` can accept, plus the end-of-generation tokens when
// `m` is accepting; 0 for the rest. Resized to trie.n_vocab().
void compute_token_mask(const Matcher& m, const TokenTrie& trie, std::vector<uint8_t>& allowed,
                        MaskScratch& scratch);

}  // namespace lokal::grammar
