#include "tokenizer/draft_vocabulary.h"

#include <algorithm>
#include <string>

#include "base/error.h"

namespace lokal::tokenizer {

void check_draft_vocabulary(const Tokenizer& target, const Tokenizer& draft) {
    const auto refuse = [](const std::string& why) {
        throw Error("the draft model cannot guess for this model: " + why +
                        "; a draft model must share the model's vocabulary (e.g. a smaller model "
                        "of the same family)",
                    ErrorKind::InvalidInput);
    };
    if (target.model() != draft.model()) {
        refuse("its tokenizer is " + std::string(draft.model()) + ", the model's is " +
               std::string(target.model()));
    }
    // Vocabularies padded to a round size may differ in length; the ids both have must agree.
    const int32_t n = std::min(target.n_vocab(), draft.n_vocab());
    if (std::max(target.n_vocab(), draft.n_vocab()) - n > 128) {
        refuse("it has " + std::to_string(draft.n_vocab()) + " tokens, the model " +
               std::to_string(target.n_vocab()));
    }
    for (int32_t id = 0; id < n; ++id) {
        if (target.token_text(id) != draft.token_text(id)) {
            refuse("token " + std::to_string(id) + " is '" + draft.token_text(id) +
                   "' in it and '" + target.token_text(id) + "' in the model");
        }
    }
}

}  // namespace lokal::tokenizer
