#include "tokenizer/special_split.h"

#include <cctype>

#include "tokenizer/vocab.h"

namespace lokal::tokenizer {

namespace {

bool is_space(char c) {
    return std::isspace(static_cast<unsigned char>(c)) != 0;
}

}  // namespace

std::vector<Fragment> split_special(const Vocab& vocab, std::string_view text, bool parse_special) {
    std::vector<Fragment> frags;
    if (text.empty()) return frags;
    frags.push_back({-1, text});
    std::vector<Fragment> next;
    for (int32_t id : vocab.special_ids) {
        const uint32_t attr = vocab.attr[id];
        if (!parse_special && (attr & (kAttrControl | kAttrUnknown))) continue;
        const std::string_view tok = vocab.text[id];
        next.clear();
        bool changed = false;
        for (const Fragment& f : frags) {
            if (f.token >= 0) {
                next.push_back(f);
                continue;
            }
            std::string_view rest = f.text;
            for (;;) {
                const size_t at = rest.find(tok);
                if (at == std::string_view::npos) {
                    if (!rest.empty()) next.push_back({-1, rest});
                    break;
                }
                changed = true;
                std::string_view left = rest.substr(0, at);
                if (attr & kAttrLStrip) {
                    while (!left.empty() && is_space(left.back())) left.remove_suffix(1);
                }
                if (!left.empty()) next.push_back({-1, left});
                next.push_back({id, {}});
                rest = rest.substr(at + tok.size());
                if (attr & kAttrRStrip) {
                    while (!rest.empty() && is_space(rest.front())) rest.remove_prefix(1);
                }
            }
        }
        if (changed) frags.swap(next);
    }
    return frags;
}

}  // namespace lokal::tokenizer
