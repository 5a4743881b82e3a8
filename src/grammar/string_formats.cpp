#include "grammar/string_formats.h"

namespace lokal::grammar {

namespace {

using B = GrammarBuilder;

Sym digits(char lo, char hi) {
    return B::cls(ByteSet::range(uint8_t(lo), uint8_t(hi)));
}

Seq date(GrammarBuilder& b) {
    const Sym d = digits('0', '9');
    const Sym month =
        b.choice("month", {{B::byte('0'), digits('1', '9')}, {B::byte('1'), digits('0', '2')}});
    const Sym day = b.choice("day", {{B::byte('0'), digits('1', '9')},
                                     {digits('1', '2'), d},
                                     {B::byte('3'), digits('0', '1')}});
    return {d, d, d, d, B::byte('-'), month, B::byte('-'), day};
}

Seq time(GrammarBuilder& b) {
    const Sym d = digits('0', '9');
    const Sym hour = b.choice("hour", {{digits('0', '1'), d}, {B::byte('2'), digits('0', '3')}});
    const Sym minute = b.seq("minute", {digits('0', '5'), d});
    const Sym second = b.choice("second", {{digits('0', '5'), d}, {B::byte('6'), B::byte('0')}});
    const Sym frac = b.optional("time-frac", {B::byte('.'), b.repeat("frac", {d}, 1, 9)});
    ByteSet z;
    z.add('Z');
    z.add('z');
    ByteSet sign;
    sign.add('+');
    sign.add('-');
    const Sym offset =
        b.choice("offset", {{B::cls(z)}, {B::cls(sign), hour, B::byte(':'), minute}});
    return {hour, B::byte(':'), minute, B::byte(':'), second, frac, offset};
}

}  // namespace

std::optional<Sym> format_rules(JsonRules& json, const std::string& format) {
    GrammarBuilder& b = json.builder();
    Seq body;
    if (format == "date") {
        body = date(b);
    } else if (format == "time") {
        body = time(b);
    } else if (format == "date-time") {
        body = date(b);
        ByteSet t;
        t.add('T');
        t.add('t');
        body.push_back(B::cls(t));
        const Seq tm = time(b);
        body.insert(body.end(), tm.begin(), tm.end());
    } else if (format == "uuid") {
        const Sym h =
            B::cls(ByteSet::range('0', '9') | ByteSet::range('a', 'f') | ByteSet::range('A', 'F'));
        for (int group : {8, 4, 4, 4, 12}) {
            if (!body.empty()) body.push_back(B::byte('-'));
            for (int i = 0; i < group; ++i) body.push_back(h);
        }
    } else {
        return std::nullopt;
    }
    body.insert(body.begin(), B::byte('"'));
    body.push_back(B::byte('"'));
    return b.seq("format-" + format, std::move(body));
}

}  // namespace lokal::grammar
