// The vocabulary as stored in a GGUF file: token texts, scores and types, the special ids, the
// tokenizer flags (add_bos, add_space_prefix, ...) and, for BPE, the merge ranks. Defaults per
// tokenizer model follow llama.cpp so that the same file tokenizes the same way.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace lokal::gguf {
class File;
}

namespace lokal::tokenizer {

enum class ModelType { Spm, Bpe, WordPiece };

// Token attributes (bit flags), derived from the GGUF token types.
enum TokenAttr : uint32_t {
    kAttrNormal = 1u << 0,
    kAttrUnknown = 1u << 1,
    kAttrControl = 1u << 2,
    kAttrUserDefined = 1u << 3,
    kAttrUnused = 1u << 4,
    kAttrByte = 1u << 5,
    kAttrLStrip = 1u << 6,  // strip whitespace left of this special token when matching it
    kAttrRStrip = 1u << 7,  // ... and right of it
};

struct Vocab {
    ModelType type = ModelType::Spm;
    std::string model;  // tokenizer.ggml.model
    std::string pre;    // tokenizer.ggml.pre ("" when absent)

    std::vector<std::string> text;  // id -> token text
    std::vector<float> score;
    std::vector<uint32_t> attr;
    std::unordered_map<std::string, int32_t> to_id;
    size_t max_token_len = 0;  // bytes

    int32_t bos = -1, eos = -1, eot = -1, eom = -1, unk = -1, sep = -1, pad = -1;
    bool add_bos = false, add_eos = false, add_sep = false;
    bool add_space_prefix = false;  // SPM: prefix the text with a space
    bool ignore_merges = false;     // BPE: a pre-token that is itself a token skips the merges
    bool clean_spaces = false;      // decode: " ," -> ",", " 's" -> "'s", ...
    bool lowercase = false, strip_accents = false;  // WordPiece normaliser

    std::unordered_set<int32_t> eog;   // end-of-generation ids
    std::vector<int32_t> special_ids;  // CONTROL/USER_DEFINED/UNKNOWN ids, longest text first

    // BPE merges: "left\xFFright" -> rank (0 = merged first).
    std::unordered_map<std::string, int32_t> merge_rank;

    static Vocab from_gguf(const gguf::File& f);

    int32_t n_tokens() const { return static_cast<int32_t>(text.size()); }
    bool valid(int32_t id) const { return id >= 0 && id < n_tokens(); }
    int32_t find(std::string_view s) const;  // -1 when absent
    // Rank of merging `left` and `right`, or -1.
    int32_t rank(std::string_view left, std::string_view right) const;
    // The token that stands for one raw byte (SPM "<0xAB>" or the character itself, BPE the
    // mapped character); -1 when the vocabulary has none.
    int32_t byte_token(uint8_t byte) const;
};

}  // namespace lokal::tokenizer
