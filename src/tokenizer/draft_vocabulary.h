// Speculative decoding's one requirement on a draft model: a guessed token id must mean the same
// text to the draft and to the model it guesses for. Here, below the model and the store, so that
// `lokal create` can check a Modelfile's DRAFT from the GGUF files alone.
#pragma once

#include "tokenizer/tokenizer.h"

namespace lokal::tokenizer {

// Throws lokal::Error naming the first difference when the draft's vocabulary is not the
// target's (vocabularies padded to a round size may differ in length by a little).
void check_draft_vocabulary(const Tokenizer& target, const Tokenizer& draft);

}  // namespace lokal::tokenizer
