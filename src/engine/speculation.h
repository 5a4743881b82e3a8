// Speculative decoding: cheap guesses of the next tokens, checked by the model in one forward
// pass. Every guessed token is compared with the token the sampler picks from the model's own
// logits at that position, so the output (greedy or sampled, with the same seed) is exactly what
// it would be without speculation; a wrong guess only costs the rows it added to the batch. For
// a deterministic guess this is the standard speculative-sampling rule: a guess d is kept with
// probability p(d), and after a rejection the token is drawn from p without d.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

namespace lokal::engine {

// Where guesses come from: the tokens a sequence holds (prompt and answer so far, its last one
// not yet evaluated) and the most it may guess; returns at most that many tokens.
using DraftSource =
    std::function<std::vector<int32_t>(std::span<const int32_t> history, int max_tokens)>;

// Prompt lookup: finds the most recent earlier place where the history's last n tokens occurred
// (n from max_ngram down to min_ngram) and proposes the up to max_tokens tokens that followed it
// there. Answers that quote or rewrite their prompt (code edits, citations) repeat long runs.
std::vector<int32_t> prompt_lookup_draft(std::span<const int32_t> history, int max_tokens,
                                         int min_ngram = 2, int max_ngram = 4);

// How many tokens one sequence should guess at its next step, learned from how many of its
// guesses the model has kept. Long runs of kept guesses lengthen the draft; a draft rejected
// at its first token makes the sequence pause drafting for a while, twice as long each time in
// a row, so text that does not repeat itself costs almost nothing.
class DraftPolicy {
  public:
    explicit DraftPolicy(int max_draft) : max_(max_draft), len_(max_draft < 4 ? max_draft : 4) {}
    // Tokens to guess now (0: none). Called once per step the sequence generates in.
    int want();
    void record(int drafted, int accepted);

  private:
    int max_;
    int len_;
    int pause_ = 0;  // steps left without drafting
    int misses_ = 0;
};

}  // namespace lokal::engine
