// Guesses from a draft model: a smaller model with the same vocabulary continues each sequence
// greedily for a few tokens (the argmax after the request's logit bias and repetition penalties,
// over the same token history the request's sampler will see), which the scheduler then checks with
// the real model in one pass. The draft keeps one sequence per scheduler slot in its own context
// and re-evaluates only what changed since its last guess (the tokens the real model kept or chose
// differently).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "model/context.h"
#include "model/model.h"
#include "sampling/sampler.h"

namespace lokal::engine {

// Throws lokal::Error naming the first difference when the draft's vocabulary is not the
// target's (a guess must mean the same token to both).
void check_draft_vocabulary(const model::Model& target, const model::Model& draft);

class DraftModel {
  public:
    // Checks the vocabularies (above); sequences 0..n_seq-1, each up to n_ctx positions.
    DraftModel(const model::Model& target, const model::Model& draft, int n_seq, int n_ctx,
               int n_threads);
    // The logit bias and penalties (repeat / presence / frequency over repeat_last_n tokens) of
    // the request seq now serves; its guesses pick the argmax after them, as the request's own
    // greedy sampler would. Until called, a sequence guesses the plain argmax.
    void set_sampling(int seq, const sampling::SamplingParams& request);
    // Up to max_tokens greedy guesses to follow history (its last token not yet evaluated by
    // the draft either). Empty when the draft's KV pool or context has no room.
    std::vector<int32_t> propose(int seq, std::span<const int32_t> history, int max_tokens);
    const model::Model& model() const { return draft_; }

  private:
    // Brings seq's draft KV to history's first n tokens and returns the logits after them.
    const float* catch_up(int seq, std::span<const int32_t> history);

    // The argmax after seq's bias and penalties over its picker's history, or the plain
    // argmax without them; -1 when the bias and penalties exclude every token.
    int32_t pick(int seq, const float* logits);

    const model::Model& draft_;
    std::unique_ptr<model::Context> ctx_;
    std::vector<std::vector<int32_t>> held_;  // per sequence: the tokens its draft KV holds
    // Per sequence: a greedy sampler with the request's bias and penalties. propose() refills
    // its history from the tokens it is given, then adds each guess as it is made.
    std::vector<std::optional<sampling::Sampler>> picker_;
};

}  // namespace lokal::engine
