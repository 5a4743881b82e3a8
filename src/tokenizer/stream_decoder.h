// Streaming detokenization: pieces are released only up to the last complete UTF-8 character, so
// a character spread over several byte tokens is never split across pushes.
#pragma once

#include <cstdint>
#include <string>

namespace lokal::tokenizer {

class Tokenizer;

class StreamDecoder {
  public:
    explicit StreamDecoder(const Tokenizer& tok, bool render_special = false)
        : tok_(tok), render_special_(render_special) {}

    // The text that became complete with this token (possibly empty).
    std::string push(int32_t id);
    // Whatever is still held back (an incomplete character at the very end), then reset.
    std::string flush();

  private:
    const Tokenizer& tok_;
    bool render_special_;
    std::string pending_;
};

}  // namespace lokal::tokenizer
