// The tokenizer facade: text <-> token ids for the vocabulary stored in a GGUF file.
// Supports SentencePiece BPE ("llama"), byte-level BPE ("gpt2", with the pre-tokenizer named by
// tokenizer.ggml.pre) and WordPiece ("bert"), matching llama.cpp token for token.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lokal::gguf {
class File;
}

namespace lokal::tokenizer {

struct Vocab;
class PreTokenizer;

class Tokenizer {
  public:
    // Throws lokal::Error on an unsupported tokenizer.ggml.model or .pre, naming it.
    static std::unique_ptr<Tokenizer> from_gguf(const gguf::File& f);
    ~Tokenizer();
    Tokenizer(const Tokenizer&) = delete;
    Tokenizer& operator=(const Tokenizer&) = delete;

    // add_special: BOS/EOS (BERT: [CLS] ... [SEP]) as the vocabulary asks.
    // parse_special: control tokens written in the text ("<|im_end|>") become their ids; without
    // it they are tokenized as ordinary text. User-defined tokens are always matched.
    std::vector<int32_t> encode(std::string_view text, bool add_special, bool parse_special) const;

    // A text pair for a cross-encoder (reranker): BERT "[CLS] a [SEP] b [SEP]", XLM-R
    // "<s> a </s></s> b </s>": BOS, EOS and SEP where the vocabulary adds them.
    std::vector<int32_t> encode_pair(std::string_view first, std::string_view second) const;

    // The bytes this token stands for (SPM "▁" -> space, "<0xAB>" -> byte 0xAB, byte-level BPE
    // characters -> their bytes, WordPiece word starts -> leading space). Control and unknown
    // tokens give their text when render_special is set, else nothing. May be an incomplete
    // UTF-8 sequence; use StreamDecoder to print tokens as they come.
    std::string token_to_piece(int32_t id, bool render_special = true) const;

    // Concatenated pieces; for SPM-style vocabularies the space added in front of the text is
    // removed again. With clean_spaces the vocabulary's clean_up_tokenization_spaces rules apply
    // (" ," -> ","), which makes decoding lossy, so it is off by default.
    std::string decode(const std::vector<int32_t>& ids, bool render_special = false,
                       bool clean_spaces = false) const;

    int32_t n_vocab() const;
    int32_t bos() const;  // -1 when absent
    int32_t eos() const;
    int32_t eot() const;
    int32_t unk() const;
    int32_t sep() const;
    bool add_bos() const;
    bool add_eos() const;
    bool is_eog(int32_t id) const;      // end of generation: eos, eot, eom, <|im_end|>, ...
    bool is_control(int32_t id) const;  // control (and unknown-type) tokens
    std::optional<int32_t> find_token(std::string_view text) const;
    const std::string& token_text(int32_t id) const;  // the vocabulary entry, unmapped

    std::string_view model() const;  // "llama" (SPM), "gpt2" (BPE), "bert" (WordPiece)
    std::string_view pre() const;    // tokenizer.ggml.pre

    const Vocab& vocab() const { return *vocab_; }

  private:
    Tokenizer() = default;
    std::unique_ptr<Vocab> vocab_;
    std::unique_ptr<PreTokenizer> pre_;  // BPE only
};

}  // namespace lokal::tokenizer

// StreamDecoder is part of the public API; tokenizer.h brings it along.
#include "tokenizer/stream_decoder.h"  // IWYU pragma: export
