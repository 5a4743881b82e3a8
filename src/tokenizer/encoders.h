// The three subword algorithms. Each appends the ids for one piece of raw text (special tokens
// already split off) to `out`.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace lokal::tokenizer {

struct Vocab;
class PreTokenizer;

// SentencePiece BPE (llama): `text` already has spaces escaped as U+2581. Merges the adjacent pair
// whose token has the highest score; characters left without a token fall back to byte tokens.
void spm_encode(const Vocab& vocab, std::string_view text, std::vector<int32_t>& out);

// Byte-level BPE (gpt2): pre-tokenizes with `pre`, then merges by rank inside each word.
void bpe_encode(const Vocab& vocab, const PreTokenizer& pre, std::string_view text,
                std::vector<int32_t>& out);

// WordPiece (bert): normalises, splits on whitespace and punctuation, then longest-match-first.
void wordpiece_encode(const Vocab& vocab, std::string_view text, std::vector<int32_t>& out);

}  // namespace lokal::tokenizer
