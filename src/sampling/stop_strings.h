// Streaming stop strings: generated text arrives in pieces; a stop string may span several of
// them. The matcher releases text only once it cannot be the start of a stop string, and on a
// match releases the text before the stop string and drops the rest.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace lokal::sampling {

class StopMatcher {
  public:
    struct Result {
        std::string text;      // safe to show now
        bool stopped = false;  // a stop string was found; text is everything before it
    };

    // Empty strings in stops are ignored. With no stops every piece passes straight through.
    explicit StopMatcher(std::vector<std::string> stops);

    // Adds a piece of generated text. After a stop, returns {"", true} for every further piece.
    Result feed(std::string_view piece);

    // End of generation: returns the held-back text (empty after a stop).
    std::string flush();

    // Forget held text and any stop, for the next generation.
    void reset();

    bool stopped() const { return stopped_; }
    // The stop string that matched (empty when none has).
    const std::string& matched() const { return matched_; }
    // Bytes currently held back.
    size_t held() const { return buffer_.size(); }

  private:
    std::vector<std::string> stops_;
    std::string buffer_;  // text not yet released; never contains a whole stop string
    std::string matched_;
    bool stopped_ = false;
};

}  // namespace lokal::sampling
