#include "grammar/stack_engine.h"

#include "base/error.h"

namespace lokal::grammar {

namespace {
constexpr size_t kLinearScan = 24;  // below this many new nodes, merge by scanning
}

void StackEngine::begin_step() {
    step_begin_ = arena.size();
    if (!big_.empty()) big_.clear();
}

std::pair<int32_t, bool> StackEngine::intern(uint32_t pos, int32_t parent) {
    const size_t made = arena.size() - step_begin_;
    if (made < kLinearScan) {
        for (size_t i = step_begin_; i < arena.size(); ++i) {
            if (arena[i].pos == pos && arena[i].parent == parent) {
                return {static_cast<int32_t>(i), false};
            }
        }
    } else {
        if (made == kLinearScan) {
            for (size_t i = step_begin_; i < arena.size(); ++i) {
                big_.emplace(
                    (uint64_t{arena[i].pos} << 32) | static_cast<uint32_t>(arena[i].parent),
                    static_cast<int32_t>(i));
            }
        }
        if (made >= kMaxStepNodes) {
            throw Error("grammar too ambiguous: over " + std::to_string(kMaxStepNodes) +
                        " parse states at one position");
        }
        const uint64_t key = (uint64_t{pos} << 32) | static_cast<uint32_t>(parent);
        auto [it, fresh] = big_.try_emplace(key, static_cast<int32_t>(arena.size()));
        if (!fresh) return {it->second, false};
    }
    arena.push_back({pos, parent});
    return {static_cast<int32_t>(arena.size() - 1), true};
}

void StackEngine::close(uint32_t pos0, int32_t parent0, std::vector<StackNode>& out,
                        bool& accepting) {
    const auto& code = g_->code();
    work_.clear();
    work_.push_back({pos0, parent0});
    while (!work_.empty()) {
        auto [pos, parent] = work_.back();
        work_.pop_back();
        for (;;) {
            const Grammar::Element e = code[pos];
            if (e.kind == Grammar::Kind::Class) {
                if (intern(pos, parent).second) out.push_back({pos, parent});
                break;
            }
            if (e.kind == Grammar::Kind::End) {
                if (parent < 0) {
                    accepting = true;
                    break;
                }
                const StackNode p = arena[parent];
                pos = p.pos + 1;
                parent = p.parent;
                continue;
            }
            // A rule call: in tail position the callee returns straight to our caller.
            int32_t frame = parent;
            if (code[pos + 1].kind != Grammar::Kind::End) {
                auto [id, fresh] = intern(pos, parent);
                if (!fresh) break;  // already expanded in this step
                frame = id;
            }
            for (const uint32_t* a = g_->alts_begin(e.arg); a != g_->alts_end(e.arg); ++a) {
                work_.push_back({*a, frame});
            }
            break;
        }
    }
}

bool StackEngine::start(std::vector<StackNode>& out) {
    begin_step();
    bool accepting = false;
    const uint32_t r = g_->root();
    for (const uint32_t* a = g_->alts_begin(r); a != g_->alts_end(r); ++a) {
        close(*a, -1, out, accepting);
    }
    return accepting;
}

bool StackEngine::step(const StackNode* tops, size_t n, uint8_t c, std::vector<StackNode>& out) {
    begin_step();
    bool accepting = false;
    const auto& code = g_->code();
    for (size_t i = 0; i < n; ++i) {
        const StackNode t = tops[i];
        if (g_->byte_class(code[t.pos].arg).has(c)) close(t.pos + 1, t.parent, out, accepting);
    }
    return accepting;
}

void StackEngine::compact(std::vector<StackNode>& tops) {
    remap_.assign(arena.size(), -1);
    std::vector<StackNode> out;
    // Copy each live chain once; parents are written before the children that point to them.
    std::vector<int32_t> chain;
    for (StackNode& t : tops) {
        chain.clear();
        for (int32_t n = t.parent; n >= 0 && remap_[n] < 0; n = arena[n].parent) chain.push_back(n);
        for (size_t i = chain.size(); i-- > 0;) {
            const StackNode old = arena[chain[i]];
            remap_[chain[i]] = static_cast<int32_t>(out.size());
            out.push_back({old.pos, old.parent < 0 ? -1 : remap_[old.parent]});
        }
        t.parent = t.parent < 0 ? -1 : remap_[t.parent];
    }
    arena.swap(out);
}

}  // namespace lokal::grammar
