// An evaluation context: one sequence's KV cache and the scratch buffers of the forward pass.
// Sized once at creation; evaluating tokens allocates nothing.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "base/thread_pool.h"
#include "kernels/cpu/matmul.h"
#include "model/kv_cache.h"
#include "model/model.h"

namespace lokal::model {

struct ContextParams {
    int n_ctx = 0;      // 0: the model's training context, capped at 4096
    int n_batch = 512;  // tokens per forward pass when evaluating a long prompt
    int n_threads = 0;  // 0: one per physical core
    KvType kv_type = KvType::F16;
};

class Context {
  public:
    Context(const Model& model, ContextParams params);
    ~Context();

    // Appends tokens to the sequence and runs the forward pass. Afterwards logits(i) holds the
    // logits of the i-th of these tokens when all_logits, else only the last (i = 0).
    // Throws lokal::Error when the sequence would exceed the context.
    void eval(std::span<const int32_t> tokens, bool all_logits = false);

    const float* logits(int i = 0) const { return logits_.data() + (size_t)i * n_vocab_; }
    int n_vocab() const { return n_vocab_; }
    int n_past() const { return n_past_; }
    int n_ctx() const { return n_ctx_; }
    size_t kv_cache_bytes() const;
    int n_threads() const { return pool_.size(); }
    // A sentence embedding from a decoder model: the tokens are evaluated from an empty
    // sequence, their final normalised hidden states pooled and L2-normalised. Clears the
    // sequence afterwards.
    std::vector<float> embed(std::span<const int32_t> tokens, Pooling pooling);

    // Forget everything after the first n tokens (n = 0 clears the sequence). Returns how many
    // are kept, which can be fewer than n (then the caller re-evaluates the rest).
    int truncate(int n);

    const Model& model() const { return model_; }

  private:
    void forward_batch(const int32_t* tokens, int n, bool all_logits, float* logits_out);

    const Model& model_;
    int n_ctx_ = 0;
    int n_batch_ = 0;
    int n_vocab_ = 0;
    int n_past_ = 0;
    ThreadPool pool_;
    kernels::MatmulScratch mm_scratch_;

    std::unique_ptr<KvCache> kv_cache_;
    RopeConfig rope_, rope_swa_;  // the model's, with LongRoPE's long factors for long contexts
    // Per-batch activations.
    std::vector<float> x_, xn_, qkv_, attn_, ffn_, act_;
    std::vector<float> logits_;
    std::vector<float>* hidden_sink_ = nullptr;  // set only while embed() runs
};

}  // namespace lokal::model
