#include <optional>

#include "tokenizer/encoders.h"
#include "tokenizer/symbol_merge.h"
#include "tokenizer/vocab.h"

namespace lokal::tokenizer {

void spm_encode(const Vocab& vocab, std::string_view text, std::vector<int32_t>& out) {
    std::string joined;
    // Highest score merges first: the key is the negated score.
    const auto score = [&](std::string_view a, std::string_view b) -> std::optional<float> {
        joined.assign(a);
        joined.append(b);
        const auto it = vocab.to_id.find(joined);
        if (it == vocab.to_id.end()) return std::nullopt;
        return -vocab.score[it->second];
    };
    for (const Symbol& s : merge_symbols<float>(text, score)) {
        const std::string_view piece = text.substr(s.start, s.len);
        const int32_t id = vocab.find(piece);
        if (id >= 0) {
            out.push_back(id);
            continue;
        }
        for (char c : piece) {  // byte fallback
            const int32_t b = vocab.byte_token(static_cast<uint8_t>(c));
            if (b >= 0) {
                out.push_back(b);
            } else if (vocab.unk >= 0) {
                out.push_back(vocab.unk);
            }
        }
    }
}

}  // namespace lokal::tokenizer
