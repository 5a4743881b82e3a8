// The parsing core shared by Matcher and the token mask: a set of parse stacks over a Grammar,
// advanced one byte at a time (a nondeterministic pushdown automaton run breadth-first).
//
// Stacks are linked lists of nodes in an arena: a node is a position in Grammar::code() and
// its parent (the frame to return to; -1 for the root). A "top" is a node positioned at a byte
// class: the bytes that may come next. Stacks share their tails, so a step costs only the
// nodes it creates; callers may truncate the arena back to an earlier size to undo steps (the
// token mask walks its trie that way). Calls in tail position reuse the caller's frame, so
// repetitions run in constant stack depth. Identical nodes made in one step are merged, which
// keeps ambiguous grammars from multiplying stacks.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "grammar/grammar.h"

namespace lokal::grammar {

struct StackNode {
    uint32_t pos;
    int32_t parent;
};

class StackEngine {
  public:
    // Nodes one step may create; beyond this the grammar is too ambiguous (lokal::Error).
    static constexpr size_t kMaxStepNodes = 1 << 16;

    explicit StackEngine(const Grammar* g) : g_(g) {}

    // Appends the start state's tops to `tops`; returns whether the empty input is accepted.
    bool start(std::vector<int32_t>& tops);
    // Advances the tops tops[b..e) by byte c, appending the resulting tops to `tops` (after e);
    // returns whether the input so far is a complete match.
    bool step(std::vector<int32_t>& tops, size_t b, size_t e, uint8_t c);

    // Keeps only the nodes reachable from `tops` (renumbering them in place).
    void compact(std::vector<int32_t>& tops);

    const Grammar& grammar() const { return *g_; }
    std::vector<StackNode> arena;

  private:
    // Returns the node id and whether it is new.
    std::pair<int32_t, bool> intern(uint32_t pos, int32_t parent);
    void close(uint32_t pos, int32_t parent, std::vector<int32_t>& tops, bool& accepting);
    void begin_step();

    const Grammar* g_;
    size_t step_begin_ = 0;
    std::unordered_map<uint64_t, int32_t> big_;  // (pos, parent) -> node, for large steps
    std::vector<std::pair<uint32_t, int32_t>> work_;
    std::vector<int32_t> remap_;
};

}  // namespace lokal::grammar
