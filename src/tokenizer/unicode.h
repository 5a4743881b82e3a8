// Unicode helpers for the tokenizers: UTF-8 decoding that never fails (bad bytes become U+FFFD,
// as llama.cpp does), encoding, the GPT-2 byte <-> printable-character mapping used by byte-level
// BPE vocabularies, and the few character classes the WordPiece normaliser needs.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lokal::tokenizer {

constexpr uint32_t kReplacementChar = 0xFFFD;

// Length of the UTF-8 sequence that starts with byte `lead` (1 for continuation/invalid bytes).
size_t utf8_len(char lead);

// Decodes the code point at `pos` and advances `pos`. An invalid or truncated sequence consumes
// one byte and yields U+FFFD.
uint32_t utf8_decode(std::string_view s, size_t& pos);
std::vector<uint32_t> utf8_to_cpts(std::string_view s);

void utf8_append(std::string& out, uint32_t cpt);  // cpt > 0x10FFFF is written as U+FFFD
std::string cpt_to_utf8(uint32_t cpt);

// Number of leading bytes of `s` that form complete UTF-8 characters; an incomplete sequence at
// the end (one that more bytes could still complete) is excluded.
size_t utf8_complete_prefix(std::string_view s);

// GPT-2 byte-level encoding: every byte maps to one printable code point ("Ġ" for a space).
const std::string& byte_to_unicode(uint8_t byte);  // the UTF-8 of the mapped code point
// Inverse: returns -1 when `cpt` is not the image of a byte.
int unicode_to_byte(uint32_t cpt);

// Unicode White_Space (the set \s matches in Python's regex module).
bool is_whitespace(uint32_t cpt);

enum class CharClass : uint8_t { Other, AccentMark, Punctuation, Symbol, Control };
// General-category class of a code point (Mark, Punctuation, Symbol, Cc/Cf/Co/Cs, else Other).
CharClass char_class(uint32_t cpt);

uint32_t to_lower(uint32_t cpt);  // simple lowercase mapping
uint32_t nfd_base(uint32_t cpt);  // first code point of the canonical decomposition

}  // namespace lokal::tokenizer
