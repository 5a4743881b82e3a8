// Guesses from a draft model: a smaller model with the same vocabulary continues each sequence
// greedily for a few tokens, which the scheduler then checks with the real model in one pass.
// The draft keeps one sequence per scheduler slot in its own context and re-evaluates only
// what changed since its last guess (the tokens the real model kept or chose differently).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "model/context.h"
#include "model/model.h"

namespace lokal::engine {

// Throws lokal::Error naming the first difference when the draft's vocabulary is not the
// target's (a guess must mean the same token to both).
void check_draft_vocabulary(const model::Model& target, const model::Model& draft);

class DraftModel {
  public:
    // Checks the vocabularies (above); sequences 0..n_seq-1, each up to n_ctx positions.
    DraftModel(const model::Model& target, const model::Model& draft, int n_seq, int n_ctx,
               int n_threads);
    // Up to max_tokens greedy guesses to follow history (its last token not yet evaluated by
    // the draft either). Empty when the draft's KV pool or context has no room.
    std::vector<int32_t> propose(int seq, std::span<const int32_t> history, int max_tokens);
    const model::Model& model() const { return draft_; }

  private:
    // Brings seq's draft KV to history's first n tokens and returns the logits after them.
    const float* catch_up(int seq, std::span<const int32_t> history);

    const model::Model& draft_;
    std::unique_ptr<model::Context> ctx_;
    std::vector<std::vector<int32_t>> held_;  // per sequence: the tokens its draft KV holds
};

}  // namespace lokal::engine
