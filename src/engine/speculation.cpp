#include "engine/speculation.h"

#include <algorithm>

namespace lokal::engine {

std::vector<int32_t> prompt_lookup_draft(std::span<const int32_t> history, int max_tokens,
                                         int min_ngram, int max_ngram) {
    const int len = (int)history.size();
    if (max_tokens <= 0) return {};
    for (int n = std::min(max_ngram, len - 1); n >= std::max(1, min_ngram); --n) {
        const std::span<const int32_t> tail = history.subspan(len - n);
        // The latest occurrence first: nearby text predicts best. `start` ends before the tail.
        for (int start = len - n - 1; start >= 0; --start) {
            if (!std::equal(tail.begin(), tail.end(), history.begin() + start)) continue;
            const int from = start + n;
            const int take = std::min(max_tokens, len - from);
            return {history.begin() + from, history.begin() + from + take};
        }
    }
    return {};
}

int DraftPolicy::want() {
    if (max_ <= 0) return 0;
    if (pause_ > 0) {
        --pause_;
        return 0;
    }
    return len_;
}

void DraftPolicy::record(int drafted, int accepted) {
    if (drafted <= 0) return;
    if (accepted == 0) {
        misses_ = std::min(misses_ + 1, 6);
        pause_ = 1 << misses_;  // 2, 4, ... 64 steps
        len_ = std::max(1, len_ / 2);
        return;
    }
    misses_ = 0;
    len_ =
        accepted == drafted ? std::min(max_, len_ * 2) : std::max(2, std::min(max_, accepted + 1));
}

}  // namespace lokal::engine
