// Token sampling: turns one logits vector (n_vocab floats) into the next token id.
//
// The chain runs in llama.cpp's default order, with Ollama's defaults:
//
//   logit_bias -> penalties (repeat / presence / frequency over the last repeat_last_n tokens)
//   -> top_k -> typical_p -> top_p -> min_p -> temperature -> draw from the softmax
//
// The filters (top_k, typical_p, top_p, min_p) look at the distribution at temperature 1;
// temperature only reshapes what survives them. temperature <= 0 means greedy: the argmax after
// bias and penalties, ties broken by the lowest id.
//
// Reproducibility: the same seed, logits and history give the same tokens on every platform.
// The RNG is std::mt19937_64 (its output is fixed by the standard) and the final draw makes its
// own uniform double instead of using std::*_distribution (whose output is not). Candidates are
// always in a deterministic order (by id, or by logit descending with ties by lower id).
#pragma once

#include <cstdint>
#include <map>
#include <random>
#include <span>
#include <vector>

namespace lokal::sampling {

// SamplingParams::seed value meaning "pick a seed from std::random_device".
inline constexpr uint64_t kRandomSeed = ~uint64_t{0};

struct SamplingParams {
    float temperature = 0.8f;     // <= 0: greedy
    int top_k = 40;               // <= 0: off
    float top_p = 0.9f;           // >= 1: off; <= 0 keeps only the most likely token
    float min_p = 0.0f;           // <= 0: off; keeps p >= min_p * p_max
    float typical_p = 1.0f;       // >= 1: off (locally typical sampling)
    float repeat_penalty = 1.1f;  // 1: off; > 1 divides positive logits, multiplies negative ones
    int repeat_last_n = 64;       // penalty window in tokens; 0: off, -1: the whole history
    float presence_penalty = 0;   // subtracted once from every token in the window
    float frequency_penalty = 0;  // subtracted once per occurrence in the window
    uint64_t seed = kRandomSeed;
    // Added to a token's logit before anything else; -infinity bans the token.
    std::map<int32_t, float> logit_bias;
};

// Throws lokal::Error naming the field when params cannot be used with a vocabulary of n_vocab
// tokens (NaN or infinite values, repeat_penalty <= 0, repeat_last_n < -1, a logit_bias id out
// of range or a +infinity / NaN bias). Values outside the useful range but with a clear meaning
// (top_p = 5, top_k = -1) are accepted and mean "off".
void validate(const SamplingParams& params, int n_vocab);

struct Candidate {
    int32_t id;
    float logit;  // after bias, penalties and (once the chain has run) temperature
    float p;      // probability among the surviving candidates
};

class Sampler {
  public:
    // Throws lokal::Error for params that fail validate() or n_vocab <= 0.
    Sampler(SamplingParams params, int n_vocab);

    // Samples the next token from logits[0..n_vocab). Does not record it: call accept().
    // Throws lokal::Error when bias and logits exclude every token (all -infinity).
    // NaN logits count as -infinity.
    int32_t sample(const float* logits);

    // Runs the chain without the draw and returns the surviving candidates, most likely first
    // (ties by lower id), with their final probabilities. Valid until the next call. For greedy
    // params this is the single argmax with p = 1. Does not advance the RNG.
    std::span<const Candidate> candidates(const float* logits);

    // Records a token (prompt or generated) in the penalty history. Ids outside [0, n_vocab)
    // are recorded but never penalised.
    void accept(int32_t token);

    // Back to the just-constructed state: empty history, RNG re-seeded with seed().
    void reset();

    const SamplingParams& params() const { return params_; }
    int n_vocab() const { return n_vocab_; }
    // The seed in use (the one drawn from std::random_device when params.seed == kRandomSeed).
    uint64_t seed() const { return seed_; }

  private:
    void load(const float* logits);  // bias + penalties + drop -inf, candidates in id order
    bool apply_penalties();          // false if a logit became non-finite
    bool greedy() const { return !(params_.temperature > 0); }
    void keep_argmax();
    void top_k(int k);
    void typical(float p);
    void top_p(float p);
    void min_p(float p);
    void softmax(float inv_temperature);
    void finish_chain();  // everything after load() except the draw
    double uniform();     // in [0, 1), from the top 53 bits of one RNG output

    SamplingParams params_;
    int n_vocab_;
    uint64_t seed_;
    std::mt19937_64 rng_;

    std::vector<Candidate> cand_;  // reused every call; the first n_ are alive
    size_t n_ = 0;
    bool sorted_ = false;  // first n_ sorted by logit desc, id asc (otherwise id order)

    struct Scored {
        float score;
        int32_t id;
        uint32_t pos;
    };
    std::vector<Scored> scratch_;  // typical_p's ordering
    std::vector<Candidate> heap_;  // top_k's selection

    std::vector<int32_t> history_;  // ring buffer when repeat_last_n > 0
    size_t head_ = 0;
    std::vector<int32_t> counts_;  // n_vocab zeros between calls
};

}  // namespace lokal::sampling
