// The byte strings of a vocabulary's tokens, arranged once per vocabulary as a trie in
// depth-first order, so the token mask walks shared prefixes once and skips a rejected
// subtree in one jump.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lokal::tokenizer {
class Tokenizer;
}

namespace lokal::grammar {

class TokenTrie {
  public:
    struct Node {
        uint8_t byte;
        uint16_t depth;        // 1 for a first byte
        uint32_t next;         // index of the first node after this subtree
        uint32_t token_begin;  // tokens whose piece ends here: tokens()[token_begin..token_end)
        uint32_t token_end;
    };

    // Pieces are token_to_piece(id, false); end-of-generation tokens are kept apart (allowed
    // only where the grammar is complete) and other control tokens are never allowed.
    explicit TokenTrie(const tokenizer::Tokenizer& tok);
    // pieces[id] is the token's bytes ("" : never allowed); eog: the end-of-generation ids.
    TokenTrie(std::vector<std::string> pieces, std::vector<int32_t> eog);

    int32_t n_vocab() const { return static_cast<int32_t>(pieces_.size()); }
    const std::string& piece(int32_t id) const { return pieces_[id]; }
    bool is_eog(int32_t id) const { return is_eog_[id] != 0; }
    const std::vector<int32_t>& eog_tokens() const { return eog_; }

    const std::vector<Node>& nodes() const { return nodes_; }
    const std::vector<int32_t>& tokens() const { return tokens_; }
    size_t max_depth() const { return max_depth_; }

  private:
    void build();
    std::vector<std::string> pieces_;
    std::vector<int32_t> eog_;
    std::vector<uint8_t> is_eog_;
    std::vector<Node> nodes_;
    std::vector<int32_t> tokens_;
    size_t max_depth_ = 0;
};

}  // namespace lokal::grammar
