#include "grammar/grammar.h"

#include <map>
#include <utility>

#include "base/error.h"

namespace lokal::grammar {

namespace {

void append_byte(std::string& out, unsigned b) {
    static const char* hex = "0123456789ABCDEF";
    if (b >= 0x20 && b < 0x7f && b != '\\' && b != ']' && b != '[' && b != '-' && b != '"' &&
        b != '^') {
        out += static_cast<char>(b);
    } else {
        out += "\\x";
        out += hex[b >> 4];
        out += hex[b & 15];
    }
}

std::string class_to_string(const ByteSet& s) {
    std::string out = "[";
    for (unsigned b = 0; b < 256;) {
        if (!s.has(static_cast<uint8_t>(b))) {
            ++b;
            continue;
        }
        unsigned e = b;
        while (e + 1 < 256 && s.has(static_cast<uint8_t>(e + 1))) ++e;
        append_byte(out, b);
        if (e > b) {
            out += '-';
            append_byte(out, e);
        }
        b = e + 1;
    }
    return out + "]";
}

}  // namespace

std::string Grammar::to_string() const {
    std::string out;
    for (uint32_t r = 0; r < n_rules(); ++r) {
        out += rule_names_[r] + " ::=";
        for (const uint32_t* a = alts_begin(r); a != alts_end(r); ++a) {
            if (a != alts_begin(r)) out += " |";
            for (uint32_t p = *a; code_[p].kind != Kind::End; ++p) {
                out += ' ';
                if (code_[p].kind == Kind::Rule) {
                    out += rule_names_[code_[p].arg];
                } else {
                    out += class_to_string(classes_[code_[p].arg]);
                }
            }
            if (code_[*a].kind == Kind::End) out += " \"\"";
        }
        out += '\n';
    }
    return out;
}

void GrammarBuilder::count(size_t n) {
    elements_ += n;
    if (elements_ > kMaxElements || rules_.size() > kMaxElements) {
        throw Error("grammar too large (over " + std::to_string(kMaxElements) +
                    " elements); lower the lengths or item counts in the schema");
    }
}

uint32_t GrammarBuilder::declare(std::string name) {
    count(1);
    names_.push_back(std::move(name));
    rules_.emplace_back();
    return static_cast<uint32_t>(rules_.size() - 1);
}

void GrammarBuilder::add_alt(uint32_t rule, Seq seq) {
    count(seq.size() + 1);
    rules_.at(rule).push_back(std::move(seq));
}

uint32_t GrammarBuilder::rule(std::string name, std::vector<Seq> alts) {
    const uint32_t r = declare(std::move(name));
    for (Seq& a : alts) add_alt(r, std::move(a));
    return r;
}

Seq GrammarBuilder::literal(std::string_view s) {
    Seq out;
    out.reserve(s.size());
    for (char c : s) out.push_back(byte(static_cast<uint8_t>(c)));
    return out;
}

Sym GrammarBuilder::seq(std::string name, Seq s) {
    if (s.size() == 1) return s[0];
    return ref(rule(std::move(name), {std::move(s)}));
}

Sym GrammarBuilder::choice(std::string name, std::vector<Seq> alts) {
    if (alts.size() == 1 && alts[0].size() == 1) return alts[0][0];
    return ref(rule(std::move(name), std::move(alts)));
}

Sym GrammarBuilder::repeat(std::string name, const Seq& x, int64_t min, int64_t max) {
    return repeat_alts(std::move(name), {x}, min, max);
}

Sym GrammarBuilder::repeat_alts(std::string name, const std::vector<Seq>& alts, int64_t min,
                                int64_t max) {
    if (min < 0 || (max >= 0 && max < min)) throw Error("invalid repetition bounds in grammar");
    if (alts.empty()) throw Error("repetition of nothing in grammar");
    Seq body;
    if (min > 0) {
        const Seq one = alts.size() == 1 ? alts[0] : Seq{choice(name + "-item", alts)};
        for (int64_t i = 0; i < min; ++i) {
            count(one.size());
            body.insert(body.end(), one.begin(), one.end());
        }
    }
    // Each alternative is followed by the rest of the repetition in tail position, so the
    // matcher repeats without growing its stacks.
    auto add_loop = [&](uint32_t rule, const uint32_t* rest) {
        for (const Seq& x : alts) {
            Seq a = x;
            if (rest) a.push_back(ref(*rest));
            add_alt(rule, std::move(a));
        }
        add_alt(rule, {});
    };
    if (max < 0) {
        // star ::= x star | ""
        const uint32_t star = declare(name + "-star");
        add_loop(star, &star);
        body.push_back(ref(star));
    } else if (max > min) {
        // opt_k ::= x opt_{k-1} | "" with opt_1 ::= x | ""
        uint32_t prev = 0;
        for (int64_t k = 1; k <= max - min; ++k) {
            const uint32_t opt = declare(name + "-opt" + std::to_string(k));
            add_loop(opt, k > 1 ? &prev : nullptr);
            prev = opt;
        }
        body.push_back(ref(prev));
    }
    if (body.size() == 1) return body[0];
    return ref(rule(std::move(name), {std::move(body)}));
}

std::shared_ptr<const Grammar> GrammarBuilder::build(uint32_t root) const {
    const size_t n = rules_.size();
    if (root >= n) throw Error("grammar root rule out of range");
    for (size_t r = 0; r < n; ++r) {
        if (rules_[r].empty()) throw Error("grammar rule '" + names_[r] + "' matches nothing");
    }

    // Nullable rules (can match the empty string), by fixpoint.
    std::vector<char> nullable(n, 0);
    for (bool changed = true; changed;) {
        changed = false;
        for (size_t r = 0; r < n; ++r) {
            if (nullable[r]) continue;
            for (const Seq& a : rules_[r]) {
                bool all = true;
                for (const Sym& s : a) all = all && s.is_rule && nullable[s.rule];
                if (all) {
                    nullable[r] = 1;
                    changed = true;
                    break;
                }
            }
        }
    }
    // Left recursion: a cycle in "r can start with s" (after nullable symbols).
    std::vector<std::vector<uint32_t>> starts(n);
    for (size_t r = 0; r < n; ++r) {
        for (const Seq& a : rules_[r]) {
            for (const Sym& s : a) {
                if (!s.is_rule) break;
                starts[r].push_back(s.rule);
                if (!nullable[s.rule]) break;
            }
        }
    }
    std::vector<uint8_t> color(n, 0);  // 0 new, 1 on stack, 2 done
    for (size_t r0 = 0; r0 < n; ++r0) {
        if (color[r0]) continue;
        std::vector<std::pair<uint32_t, size_t>> stack{{static_cast<uint32_t>(r0), 0}};
        color[r0] = 1;
        while (!stack.empty()) {
            auto& [r, i] = stack.back();
            if (i == starts[r].size()) {
                color[r] = 2;
                stack.pop_back();
                continue;
            }
            const uint32_t s = starts[r][i++];
            if (color[s] == 1) {
                throw Error("grammar is left-recursive at rule '" + names_[s] +
                            "' (a schema that refers to itself without consuming input?)");
            }
            if (color[s] == 0) {
                color[s] = 1;
                stack.push_back({s, 0});
            }
        }
    }

    auto g = std::make_shared<Grammar>();
    g->root_ = root;
    g->rule_names_ = names_;
    std::map<std::array<uint64_t, 4>, uint32_t> class_ids;
    g->rule_alts_.push_back(0);
    for (size_t r = 0; r < n; ++r) {
        for (const Seq& a : rules_[r]) {
            g->alt_starts_.push_back(static_cast<uint32_t>(g->code_.size()));
            for (const Sym& s : a) {
                if (s.is_rule) {
                    if (s.rule >= n) throw Error("grammar refers to an undefined rule");
                    g->code_.push_back({Grammar::Kind::Rule, s.rule});
                } else {
                    auto [it, fresh] = class_ids.try_emplace(
                        s.set.bits, static_cast<uint32_t>(g->classes_.size()));
                    if (fresh) g->classes_.push_back(s.set);
                    g->code_.push_back({Grammar::Kind::Class, it->second});
                }
            }
            g->code_.push_back({Grammar::Kind::End, static_cast<uint32_t>(r)});
        }
        g->rule_alts_.push_back(static_cast<uint32_t>(g->alt_starts_.size()));
    }
    return g;
}

}  // namespace lokal::grammar
