// Incremental matcher: feeds bytes to a Grammar and tells whether the input so far is a prefix
// of some sentence (alive), a whole sentence (accepting), and what could follow. Copying a
// Matcher snapshots it (its stacks are kept compact, so a copy is small).
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "grammar/grammar.h"
#include "grammar/stack_engine.h"

namespace lokal::grammar {

class Matcher {
  public:
    explicit Matcher(std::shared_ptr<const Grammar> g);

    // Feeds bytes; all or nothing: returns false and leaves the state unchanged when the bytes
    // cannot continue the input.
    bool accept(std::string_view bytes);
    bool accept_byte(uint8_t b) { return accept(std::string_view(reinterpret_cast<char*>(&b), 1)); }
    // Whether accept(bytes) would succeed.
    bool can_accept(std::string_view bytes) const;

    bool accepting() const { return accepting_; }         // the input is a complete sentence
    bool can_continue() const { return !tops_.empty(); }  // more bytes may follow
    // The bytes that may come next.
    ByteSet next_bytes() const;

    const std::shared_ptr<const Grammar>& grammar() const { return g_; }
    // Internal state, for the token mask.
    const StackEngine& engine() const { return engine_; }
    const std::vector<StackNode>& tops() const { return tops_; }

  private:
    std::shared_ptr<const Grammar> g_;
    StackEngine engine_;
    std::vector<StackNode> tops_;
    bool accepting_ = false;
    size_t compacted_size_ = 0;
};

// Whether the whole string is a sentence of the grammar.
bool matches(const std::shared_ptr<const Grammar>& g, std::string_view text);

}  // namespace lokal::grammar
