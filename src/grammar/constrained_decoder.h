// Constrained decoding, the API the sampler calls each step:
//
//   auto trie = std::make_shared<TokenTrie>(tokenizer);   // once per vocabulary
//   ConstrainedDecoder dec(parse_format(request["format"]), trie);
//   loop: dec.apply_mask(logits); id = sample(logits); dec.accept(id); if (dec.done()) stop;
//
// Tokens are allowed when the grammar can accept their bytes; end-of-generation tokens only
// once the output is complete.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "grammar/grammar.h"
#include "grammar/matcher.h"
#include "grammar/token_mask.h"
#include "grammar/token_trie.h"

namespace lokal::grammar {

class ConstrainedDecoder {
  public:
    ConstrainedDecoder(std::shared_ptr<const Grammar> grammar,
                       std::shared_ptr<const TokenTrie> trie);

    // allowed[id] != 0 for allowed tokens (computed once per state, cached until accept).
    const std::vector<uint8_t>& mask();
    // Sets the logits of disallowed tokens to -infinity (logits has n_vocab entries).
    void apply_mask(float* logits);
    // Checks one token without computing the whole mask.
    bool is_allowed(int32_t token) const;
    // Advances by a sampled token; throws lokal::Error when the token is not allowed.
    void accept(int32_t token);

    bool complete() const { return matcher_.accepting(); }  // the output so far is valid
    // Generation should stop: an end-of-generation token was accepted, or the output is
    // complete and nothing may follow it.
    bool done() const { return ended_ || (matcher_.accepting() && !matcher_.can_continue()); }

    const Matcher& matcher() const { return matcher_; }
    const TokenTrie& trie() const { return *trie_; }

  private:
    std::shared_ptr<const TokenTrie> trie_;
    Matcher matcher_;
    std::vector<uint8_t> mask_;
    bool mask_valid_ = false;
    bool ended_ = false;
    MaskScratch scratch_;
};

}  // namespace lokal::grammar
