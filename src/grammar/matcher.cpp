#include "grammar/matcher.h"

#include <utility>

namespace lokal::grammar {

Matcher::Matcher(std::shared_ptr<const Grammar> g) : g_(std::move(g)), engine_(g_.get()) {
    accepting_ = engine_.start(tops_);
    engine_.compact(tops_);
    compacted_size_ = engine_.arena.size();
}

bool Matcher::accept(std::string_view bytes) {
    if (bytes.empty()) return true;
    const size_t arena_mark = engine_.arena.size();
    std::vector<StackNode> cur = tops_, next;
    bool acc = accepting_;
    for (char ch : bytes) {
        next.clear();
        acc = engine_.step(cur.data(), cur.size(), static_cast<uint8_t>(ch), next);
        if (next.empty() && !acc) {
            engine_.arena.resize(arena_mark);
            return false;
        }
        cur.swap(next);
    }
    tops_.swap(cur);
    accepting_ = acc;
    if (engine_.arena.size() > 2 * compacted_size_ + 256) {
        engine_.compact(tops_);
        compacted_size_ = engine_.arena.size();
    }
    return true;
}

bool Matcher::can_accept(std::string_view bytes) const {
    Matcher copy = *this;
    return copy.accept(bytes);
}

ByteSet Matcher::next_bytes() const {
    ByteSet s;
    for (const StackNode& t : tops_) {
        s = s | g_->byte_class(g_->code()[t.pos].arg);
    }
    return s;
}

bool matches(const std::shared_ptr<const Grammar>& g, std::string_view text) {
    Matcher m(g);
    return m.accept(text) && m.accepting();
}

}  // namespace lokal::grammar
