#include <algorithm>
#include <string>

#include "tokenizer/encoders.h"
#include "tokenizer/unicode.h"
#include "tokenizer/vocab.h"

namespace lokal::tokenizer {

namespace {

bool is_cjk(uint32_t c) {
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
           (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
           (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

// BERT's basic tokenizer: drop control characters, optionally strip accents and lowercase, split
// on whitespace, and make every punctuation mark, ASCII symbol and CJK ideograph its own word.
std::vector<std::string> split_words(const Vocab& vocab, std::string_view text) {
    std::vector<std::string> words(1);
    for (uint32_t c : utf8_to_cpts(text)) {
        if (vocab.strip_accents) c = nfd_base(c);
        if (is_whitespace(c)) {
            if (!words.back().empty()) words.emplace_back();
            continue;
        }
        if (c == 0 || c == kReplacementChar) continue;
        const CharClass cls = char_class(c);
        if (cls == CharClass::Control) continue;
        if (vocab.strip_accents && cls == CharClass::AccentMark) continue;
        const uint32_t out = vocab.lowercase ? to_lower(c) : c;
        if (cls == CharClass::Punctuation || (c < 0x7F && cls == CharClass::Symbol) || is_cjk(c)) {
            if (!words.back().empty()) words.emplace_back();
            utf8_append(words.back(), out);
            words.emplace_back();
        } else {
            utf8_append(words.back(), out);
        }
    }
    if (words.back().empty()) words.pop_back();
    return words;
}

}  // namespace

void wordpiece_encode(const Vocab& vocab, std::string_view text, std::vector<int32_t>& out) {
    // GGUF BERT vocabularies mark word-initial pieces with U+2581 and store "##x" continuation
    // pieces as plain "x", so a word is matched as "▁word" longest-first from the left.
    for (const std::string& word : split_words(vocab, text)) {
        const std::string w = "\xE2\x96\x81" + word;
        const size_t n = w.size();
        const size_t before = out.size();
        for (size_t i = 0; i < n;) {
            bool found = false;
            for (size_t j = std::min(n, i + vocab.max_token_len + 1); j > i; --j) {
                const int32_t id = vocab.find(std::string_view(w).substr(i, j - i));
                if (id >= 0) {
                    out.push_back(id);
                    i = j;
                    found = true;
                    break;
                }
            }
            if (!found) {
                out.resize(before);
                break;
            }
        }
        if (out.size() == before && vocab.unk >= 0) out.push_back(vocab.unk);
    }
}

}  // namespace lokal::tokenizer
