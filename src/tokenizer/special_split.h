// Splits raw text around special tokens before the subword algorithm runs. Each special token
// (longest text first) is searched in every remaining text fragment; user-defined tokens are
// always matched, control and unknown tokens only when `parse_special` is set.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace lokal::tokenizer {

struct Vocab;

struct Fragment {
    int32_t token = -1;     // >= 0: a special token
    std::string_view text;  // otherwise: raw text (a view into the caller's string)
};

std::vector<Fragment> split_special(const Vocab& vocab, std::string_view text, bool parse_special);

}  // namespace lokal::tokenizer
