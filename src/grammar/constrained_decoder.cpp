#include "grammar/constrained_decoder.h"

#include <cmath>
#include <string>
#include <utility>

#include "base/error.h"

namespace lokal::grammar {

ConstrainedDecoder::ConstrainedDecoder(std::shared_ptr<const Grammar> grammar,
                                       std::shared_ptr<const TokenTrie> trie)
    : trie_(std::move(trie)), matcher_(std::move(grammar)) {
    if (!trie_) throw Error("constrained decoding needs a token trie");
}

const std::vector<uint8_t>& ConstrainedDecoder::mask() {
    if (!mask_valid_) {
        if (ended_) {
            mask_.assign(static_cast<size_t>(trie_->n_vocab()), 0);
        } else {
            compute_token_mask(matcher_, *trie_, mask_, scratch_);
        }
        mask_valid_ = true;
    }
    return mask_;
}

void ConstrainedDecoder::apply_mask(float* logits) {
    const std::vector<uint8_t>& m = mask();
    for (size_t i = 0; i < m.size(); ++i) {
        if (!m[i]) logits[i] = -INFINITY;
    }
}

bool ConstrainedDecoder::is_allowed(int32_t token) const {
    if (ended_ || token < 0 || token >= trie_->n_vocab()) return false;
    if (trie_->is_eog(token)) return matcher_.accepting();
    const std::string& piece = trie_->piece(token);
    return !piece.empty() && matcher_.can_accept(piece);
}

void ConstrainedDecoder::accept(int32_t token) {
    if (!is_allowed(token)) {
        throw Error("token " + std::to_string(token) + " is not allowed by the output format");
    }
    if (trie_->is_eog(token)) {
        ended_ = true;
    } else {
        matcher_.accept(trie_->piece(token));
    }
    mask_valid_ = false;
}

}  // namespace lokal::grammar
