#include "grammar/token_mask.h"

#include <algorithm>
#include <cstring>

namespace lokal::grammar {

namespace {

constexpr int32_t kUnknown = -1;
constexpr int32_t kDead = -2;
constexpr int32_t kUncacheable = -3;  // the successor holds frames made during the walk

int32_t intern(MaskScratch& s, std::vector<StackNode>& tops, bool accepting) {
    std::sort(tops.begin(), tops.end(), [](const StackNode& a, const StackNode& b) {
        return a.pos != b.pos ? a.pos < b.pos : a.parent < b.parent;
    });
    std::string key(tops.size() * sizeof(StackNode) + 1, '\0');
    if (!tops.empty()) std::memcpy(key.data(), tops.data(), tops.size() * sizeof(StackNode));
    key.back() = accepting ? 1 : 0;
    auto [it, fresh] = s.index.try_emplace(std::move(key), static_cast<int32_t>(s.states.size()));
    if (fresh) {
        const auto begin = static_cast<uint32_t>(s.state_tops.size());
        s.state_tops.insert(s.state_tops.end(), tops.begin(), tops.end());
        s.states.push_back({begin, static_cast<uint32_t>(s.state_tops.size()), accepting});
        s.next.resize(s.next.size() + 256, kUnknown);
    }
    return it->second;
}

}  // namespace

void compute_token_mask(const Matcher& m, const TokenTrie& trie, std::vector<uint8_t>& allowed,
                        MaskScratch& s) {
    allowed.assign(static_cast<size_t>(trie.n_vocab()), 0);
    if (m.accepting()) {
        for (int32_t id : trie.eog_tokens()) allowed[id] = 1;
    }
    if (!m.can_continue()) return;

    StackEngine engine = m.engine();  // the matcher's stacks are compact: a small copy
    const auto base = static_cast<int32_t>(engine.arena.size());
    s.states.clear();
    s.state_tops.clear();
    s.next.clear();
    s.index.clear();
    s.tops.clear();
    s.levels.resize(trie.max_depth() + 1);
    s.tmp = m.tops();
    s.levels[0] = {intern(s, s.tmp, m.accepting()), 0, 0, static_cast<uint32_t>(base)};

    const auto& nodes = trie.nodes();
    const auto& tokens = trie.tokens();
    for (size_t i = 0; i < nodes.size();) {
        const TokenTrie::Node& node = nodes[i];
        const MaskScratch::Level parent = s.levels[node.depth - 1];
        int32_t state = -1;
        const size_t edge = parent.state >= 0 ? size_t(parent.state) * 256 + node.byte : 0;
        if (parent.state >= 0 && s.next[edge] >= 0) {
            state = s.next[edge];
        } else if (parent.state >= 0 && s.next[edge] == kDead) {
            i = node.next;
            continue;
        } else {
            s.tops.resize(parent.end);
            engine.arena.resize(parent.arena);
            const StackNode* src;
            size_t n;
            if (parent.state >= 0) {
                const MaskScratch::State& ps = s.states[parent.state];
                src = s.state_tops.data() + ps.begin;
                n = ps.end - ps.begin;
            } else {
                src = s.tops.data() + parent.begin;
                n = parent.end - parent.begin;
            }
            s.tmp.clear();
            const bool accepting = engine.step(src, n, node.byte, s.tmp);
            if (s.tmp.empty() && !accepting) {
                if (parent.state >= 0) s.next[edge] = kDead;
                i = node.next;  // nothing under this prefix can match
                continue;
            }
            const bool stable = std::all_of(s.tmp.begin(), s.tmp.end(),
                                            [&](const StackNode& t) { return t.parent < base; });
            if (stable) {
                state = intern(s, s.tmp, accepting);
                engine.arena.resize(parent.arena);
                if (parent.state >= 0) s.next[edge] = state;
            } else {
                if (parent.state >= 0) s.next[edge] = kUncacheable;
                s.tops.insert(s.tops.end(), s.tmp.begin(), s.tmp.end());
            }
        }
        for (uint32_t t = node.token_begin; t < node.token_end; ++t) allowed[tokens[t]] = 1;
        if (state >= 0) {
            s.levels[node.depth] = {state, parent.end, parent.end, parent.arena};
        } else {
            s.levels[node.depth] = {-1, parent.end, static_cast<uint32_t>(s.tops.size()),
                                    static_cast<uint32_t>(engine.arena.size())};
        }
        ++i;
    }
}

}  // namespace lokal::grammar
