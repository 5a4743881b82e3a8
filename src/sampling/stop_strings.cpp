#include "sampling/stop_strings.h"

#include <algorithm>

namespace lokal::sampling {
namespace {

bool is_utf8_continuation(char c) {
    return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

// Length of the longest suffix of text that is a proper prefix of stop.
size_t partial_match(std::string_view text, std::string_view stop) {
    for (size_t len = std::min(text.size(), stop.size() - 1); len > 0; --len) {
        if (text.substr(text.size() - len) == stop.substr(0, len)) return len;
    }
    return 0;
}

}  // namespace

StopMatcher::StopMatcher(std::vector<std::string> stops) {
    for (auto& s : stops) {
        if (!s.empty()) stops_.push_back(std::move(s));
    }
}

void StopMatcher::reset() {
    buffer_.clear();
    matched_.clear();
    stopped_ = false;
}

StopMatcher::Result StopMatcher::feed(std::string_view piece) {
    Result r;
    if (stopped_) {
        r.stopped = true;
        return r;
    }
    if (stops_.empty()) {
        r.text.assign(piece);
        return r;
    }
    buffer_.append(piece);

    // The earliest stop string wins; at the same position the first listed.
    size_t best = std::string::npos;
    const std::string* hit = nullptr;
    for (const std::string& s : stops_) {
        const size_t pos = buffer_.find(s);
        if (pos < best) {
            best = pos;
            hit = &s;
        }
    }
    if (hit) {
        r.text = buffer_.substr(0, best);
        r.stopped = true;
        stopped_ = true;
        matched_ = *hit;
        buffer_.clear();
        return r;
    }

    size_t hold = 0;
    for (const std::string& s : stops_) hold = std::max(hold, partial_match(buffer_, s));
    size_t cut = buffer_.size() - hold;
    // Never release half a UTF-8 character: if the cut lands on a continuation byte (possible
    // only with a stop string that starts mid-character), hold back the whole character.
    for (int i = 0; i < 3 && cut > 0 && cut < buffer_.size() && is_utf8_continuation(buffer_[cut]);
         ++i) {
        --cut;
    }
    r.text = buffer_.substr(0, cut);
    buffer_.erase(0, cut);
    return r;
}

std::string StopMatcher::flush() {
    std::string out;
    out.swap(buffer_);
    return out;
}

}  // namespace lokal::sampling
