#include "grammar/integer_range.h"

#include <string>

namespace lokal::grammar {
namespace {

Sym digits(char lo, char hi) {
    return GrammarBuilder::cls(ByteSet::range((uint8_t)lo, (uint8_t)hi));
}

// Equal-length digit strings x <= y: alternatives covering exactly [x, y].
void same_length(const std::string& x, const std::string& y, Seq prefix, std::vector<Seq>& out) {
    const size_t n = x.size();
    if (n == 0) {
        out.push_back(std::move(prefix));
        return;
    }
    const std::string rest_x = x.substr(1), rest_y = y.substr(1);
    if (rest_x == std::string(n - 1, '0') && rest_y == std::string(n - 1, '9')) {
        prefix.push_back(digits(x[0], y[0]));
        for (size_t i = 1; i < n; ++i) prefix.push_back(digits('0', '9'));
        out.push_back(std::move(prefix));
        return;
    }
    if (x[0] == y[0]) {
        prefix.push_back(digits(x[0], x[0]));
        same_length(rest_x, rest_y, std::move(prefix), out);
        return;
    }
    Seq p = prefix;
    p.push_back(digits(x[0], x[0]));
    same_length(rest_x, std::string(n - 1, '9'), std::move(p), out);
    if (y[0] - x[0] >= 2) {
        Seq mid = prefix;
        mid.push_back(digits((char)(x[0] + 1), (char)(y[0] - 1)));
        for (size_t i = 1; i < n; ++i) mid.push_back(digits('0', '9'));
        out.push_back(std::move(mid));
    }
    Seq q = std::move(prefix);
    q.push_back(digits(y[0], y[0]));
    same_length(std::string(n - 1, '0'), rest_y, std::move(q), out);
}

// The naturals [a, b] (a <= b), optionally after a minus sign.
void naturals(uint64_t a, uint64_t b, bool negative, std::vector<Seq>& out) {
    const std::string sa = std::to_string(a), sb = std::to_string(b);
    for (size_t len = sa.size(); len <= sb.size(); ++len) {
        const std::string lo = len == sa.size() ? sa : "1" + std::string(len - 1, '0');
        const std::string hi = len == sb.size() ? sb : std::string(len, '9');
        Seq prefix;
        if (negative) prefix.push_back(GrammarBuilder::byte('-'));
        same_length(lo, hi, std::move(prefix), out);
    }
}

uint64_t magnitude(int64_t v) {  // |v| for v < 0, without overflow at INT64_MIN
    return (uint64_t)(-(v + 1)) + 1;
}

}  // namespace

std::vector<Seq> integer_range_alternatives(int64_t lo, int64_t hi) {
    std::vector<Seq> out;
    if (lo < 0) {
        // -1 .. lo as magnitudes 1 .. |lo|; "-0" never.
        const int64_t top = hi < 0 ? hi : -1;
        naturals(magnitude(top), magnitude(lo), true, out);
    }
    if (hi >= 0) naturals(lo > 0 ? (uint64_t)lo : 0, (uint64_t)hi, false, out);
    return out;
}

}  // namespace lokal::grammar
