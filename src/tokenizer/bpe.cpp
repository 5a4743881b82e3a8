#include <optional>

#include "tokenizer/bpe_pretokenize.h"
#include "tokenizer/encoders.h"
#include "tokenizer/symbol_merge.h"
#include "tokenizer/vocab.h"

namespace lokal::tokenizer {

void bpe_encode(const Vocab& vocab, const PreTokenizer& pre, std::string_view text,
                std::vector<int32_t>& out) {
    // Lowest merge rank merges first.
    const auto score = [&](std::string_view a, std::string_view b) -> std::optional<int32_t> {
        const int32_t r = vocab.rank(a, b);
        if (r < 0) return std::nullopt;
        return r;
    };
    for (const std::string& word : pre.split(text)) {
        if (vocab.ignore_merges) {
            const int32_t id = vocab.find(word);
            if (id >= 0) {
                out.push_back(id);
                continue;
            }
        }
        for (const Symbol& s : merge_symbols<int32_t>(word, score)) {
            const std::string_view piece = std::string_view(word).substr(s.start, s.len);
            const int32_t id = vocab.find(piece);
            if (id >= 0) {
                out.push_back(id);
                continue;
            }
            for (char c : piece) {  // a piece with no token: one token per (mapped) byte
                const int32_t b = vocab.find(std::string_view(&c, 1));
                if (b >= 0) out.push_back(b);
            }
        }
    }
}

}  // namespace lokal::tokenizer
