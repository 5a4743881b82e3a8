#include "grammar/token_trie.h"

#include <algorithm>
#include <limits>

#include "base/error.h"
#include "tokenizer/tokenizer.h"

namespace lokal::grammar {

namespace {
constexpr size_t kMaxPiece = std::numeric_limits<uint16_t>::max();
}

TokenTrie::TokenTrie(const tokenizer::Tokenizer& tok) {
    const int32_t n = tok.n_vocab();
    pieces_.resize(n);
    for (int32_t id = 0; id < n; ++id) {
        if (tok.is_eog(id)) {
            eog_.push_back(id);
        } else if (!tok.is_control(id)) {
            pieces_[id] = tok.token_to_piece(id, false);
        }
    }
    build();
}

TokenTrie::TokenTrie(std::vector<std::string> pieces, std::vector<int32_t> eog)
    : pieces_(std::move(pieces)), eog_(std::move(eog)) {
    for (int32_t id : eog_) {
        if (id < 0 || id >= n_vocab()) throw Error("end-of-generation token id out of range");
        pieces_[id].clear();
    }
    build();
}

void TokenTrie::build() {
    is_eog_.assign(pieces_.size(), 0);
    for (int32_t id : eog_) is_eog_[id] = 1;
    for (const std::string& p : pieces_) {
        if (p.size() > kMaxPiece) throw Error("token piece too long for the token trie");
    }
    for (int32_t id = 0; id < n_vocab(); ++id) {
        if (!pieces_[id].empty()) tokens_.push_back(id);
    }
    std::sort(tokens_.begin(), tokens_.end(), [&](int32_t a, int32_t b) {
        return pieces_[a] != pieces_[b] ? pieces_[a] < pieces_[b] : a < b;
    });
    // Pieces in sorted order: each one shares a prefix with the previous piece; the nodes past
    // that prefix are closed (their subtree ends here) and new nodes follow.
    std::vector<uint32_t> path;  // node index per depth - 1
    const std::string* prev = nullptr;
    for (size_t i = 0; i < tokens_.size(); ++i) {
        const std::string& p = pieces_[tokens_[i]];
        size_t common = 0;
        if (prev) {
            while (common < prev->size() && common < p.size() && (*prev)[common] == p[common]) {
                ++common;
            }
        }
        if (prev && common == p.size() && common == prev->size()) {
            nodes_[path.back()].token_end = static_cast<uint32_t>(i + 1);  // same piece
            continue;
        }
        while (path.size() > common) {
            nodes_[path.back()].next = static_cast<uint32_t>(nodes_.size());
            path.pop_back();
        }
        for (size_t d = common; d < p.size(); ++d) {
            path.push_back(static_cast<uint32_t>(nodes_.size()));
            nodes_.push_back({static_cast<uint8_t>(p[d]), static_cast<uint16_t>(d + 1), 0,
                              static_cast<uint32_t>(i), static_cast<uint32_t>(i)});
        }
        nodes_[path.back()].token_end = static_cast<uint32_t>(i + 1);
        max_depth_ = std::max(max_depth_, p.size());
        prev = &p;
    }
    while (!path.empty()) {
        nodes_[path.back()].next = static_cast<uint32_t>(nodes_.size());
        path.pop_back();
    }
}

}  // namespace lokal::grammar
