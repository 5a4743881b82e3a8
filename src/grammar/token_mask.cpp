#include "grammar/token_mask.h"

namespace lokal::grammar {

void compute_token_mask(const Matcher& m, const TokenTrie& trie, std::vector<uint8_t>& allowed,
                        MaskScratch& scratch) {
    allowed.assign(static_cast<size_t>(trie.n_vocab()), 0);
    if (m.accepting()) {
        for (int32_t id : trie.eog_tokens()) allowed[id] = 1;
    }
    if (!m.can_continue()) return;

    StackEngine engine = m.engine();  // the matcher's stacks are compact: a small copy
    std::vector<int32_t>& buf = scratch.tops;
    buf = m.tops();
    auto& levels = scratch.levels;
    levels.resize(trie.max_depth() + 1);
    levels[0] = {0, static_cast<uint32_t>(buf.size()), static_cast<uint32_t>(engine.arena.size())};

    const auto& nodes = trie.nodes();
    const auto& tokens = trie.tokens();
    for (size_t i = 0; i < nodes.size();) {
        const TokenTrie::Node& node = nodes[i];
        const MaskScratch::Level parent = levels[node.depth - 1];
        buf.resize(parent.end);
        engine.arena.resize(parent.arena);
        const bool accepting = engine.step(buf, parent.begin, parent.end, node.byte);
        if (buf.size() == parent.end && !accepting) {
            i = node.next;  // nothing under this prefix can match
            continue;
        }
        for (uint32_t t = node.token_begin; t < node.token_end; ++t) allowed[tokens[t]] = 1;
        levels[node.depth] = {parent.end, static_cast<uint32_t>(buf.size()),
                              static_cast<uint32_t>(engine.arena.size())};
        ++i;
    }
}

}  // namespace lokal::grammar
