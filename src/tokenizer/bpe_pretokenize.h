// BPE pre-tokenization: the text is cut into words by a sequence of regexes, one set per
// tokenizer.ggml.pre value, exactly as llama.cpp does it: each regex is applied to every piece the
// previous one produced, and both its matches and the text between them become pieces.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace lokal::tokenizer {

// What a tokenizer.ggml.pre value implies besides its regexes.
struct PreTokenizerInfo {
    bool known = false;
    bool clean_spaces = true;    // decode cleans " ," / " 's" (clean_up_tokenization_spaces)
    bool ignore_merges = false;  // a word that is a token is emitted whole
    bool add_bos = false;        // default for add_bos_token
    bool add_sep = false;
    bool no_bos = false;  // the model has no BOS token
};
PreTokenizerInfo pre_tokenizer_info(std::string_view pre);

class PreTokenizer {
  public:
    // Throws lokal::Error naming `pre` when it is not supported.
    explicit PreTokenizer(std::string_view pre);
    ~PreTokenizer();
    PreTokenizer(const PreTokenizer&) = delete;
    PreTokenizer& operator=(const PreTokenizer&) = delete;

    // Splits `text` into words, each already mapped byte-by-byte to the GPT-2 alphabet.
    std::vector<std::string> split(std::string_view text) const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace lokal::tokenizer
