// The parsing core shared by Matcher and the token mask: a set of parse stacks over a Grammar,
// advanced one byte at a time (a nondeterministic pushdown automaton run breadth-first).
//
// Stacks are linked lists of nodes in an arena: a node is a position in Grammar::code() and
// its parent (the frame to return to; -1 for the root). A state is a list of "tops": nodes
// (by value) positioned at a byte class, the bytes that may come next; their parents live in
// the arena. Stacks share their tails, so a step costs only the
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

    // Appends the start state's tops to `out`; returns whether the empty input is accepted.
    bool start(std::vector<StackNode>& out);
    // Advances the state tops[0..n) by byte c, appending the resulting tops to `out` (which
    // must not alias `tops`); returns whether the input so far is a complete match.
    bool step(const StackNode* tops, size_t n, uint8_t c, std::vector<StackNode>& out);

    // Keeps only the nodes reachable from `tops` (renumbering their parents in place).
    void compact(std::vector<StackNode>& tops);

    const Grammar& grammar() const { return *g_; }
    std::vector<StackNode> arena;

  private:
    // Returns the node id and whether it is new.
    std::pair<int32_t, bool> intern(uint32_t pos, int32_t parent);
    void close(uint32_t pos, int32_t parent, std::vector<StackNode>& out, bool& accepting);
    void begin_step();

    const Grammar* g_;
    size_t step_begin_ = 0;
    std::unordered_map<uint64_t, int32_t> big_;  // (pos, parent) -> node, for large steps
    std::vector<std::pair<uint32_t, int32_t>> work_;
    std::vector<int32_t> remap_;
};

}  // namespace lokal::grammar
