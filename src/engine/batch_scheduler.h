// Continuous batching for one loaded model: many requests share each forward pass. Every step
// carries one token for each sequence that is generating plus prompt chunks of sequences that
// are starting, up to n_batch tokens; new requests join between steps, finished ones leave.
// Finished sequences keep their KV rows as a prefix cache: a new request starts from the longest
// prefix of its prompt that any slot holds (pages are shared, not copied), so a chat's next turn
// evaluates only the new tokens. Results do not depend on what else is in the batch.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "engine/draft_model.h"
#include "engine/generation.h"
#include "engine/prompt_cache_store.h"
#include "engine/speculation.h"
#include "model/context.h"
#include "sampling/sampler.h"

namespace lokal::engine {

struct TokenLogprob {
    int32_t token = 0;
    float logprob = 0;
};

// One generated token as the client sees it.
struct TokenEvent {
    std::string_view text;  // may be empty (an incomplete character, a held-back stop string)
    int32_t token = -1;
    float logprob = 0;              // of the chosen token, under the model's distribution
    std::vector<TokenLogprob> top;  // the n_probs most likely, when asked for
};

struct SequenceResult {
    GenerateStats stats;
    int cached_tokens = 0;         // prompt tokens whose KV came from the prefix cache
    std::vector<int32_t> context;  // prompt + answer tokens (Ollama's `context`)
    std::string error;             // set when the sequence failed (stats.reason is then Cancelled)
    std::string stop_string;       // the stop string that ended it (stats.reason StopString)
};

struct SequenceRequest {
    std::vector<int32_t> prompt;
    sampling::SamplingParams sampling;
    GenerateOptions options;
    // This request's context limit (Ollama's num_ctx); 0: the scheduler's n_ctx. More than the
    // scheduler's grows it (up to the model's training context, beyond which it is clamped).
    int n_ctx = 0;
    // Layers to run on the GPU (Ollama's num_gpu); -1: as loaded. Another number than the
    // Context has makes a new Context, as n_ctx growth does (on a GPU only; else ignored).
    int gpu_layers = -1;
    // Speculative decoding: at most this many tokens guessed ahead per step (prompt lookup,
    // engine/speculation.h); -1: the scheduler's draft_max, 0: none. The answer is the same.
    int draft_max = -1;
    DraftSource draft_source;  // empty: prompt lookup
    int n_probs = -1;          // -1: no logprobs; 0: the chosen token's; n: also the n most likely
    // Structured output: narrows the logits before sampling and learns each chosen token.
    std::function<void(float* logits, int n_vocab)> constrain;
    std::function<void(int32_t token)> on_accept;
    // Optional with constrain: whether one token is allowed. Then a token is first sampled from
    // the free logits and kept when allowed, and the mask is computed only when it is not (as
    // llama.cpp does). Greedy picks the same token either way, and so does plain temperature
    // sampling in distribution; with top-k/top-p the truncation sees the free logits first.
    std::function<bool(int32_t token)> allows;
    // Both run on the scheduler thread and must return quickly. on_token returning false cancels.
    std::function<bool(const TokenEvent&)> on_token;
    std::function<void(const SequenceResult&)> on_done;
    // Set from any thread to stop the sequence within one step.
    std::shared_ptr<std::atomic<bool>> cancel = std::make_shared<std::atomic<bool>>(false);
};

struct SchedulerParams {
    int n_parallel = 4;  // sequences evaluated together
    int n_ctx = 4096;    // most positions one sequence may hold (grows on demand)
    int n_batch = 512;   // tokens per forward pass
    int n_threads = 0;
    int kv_rows = 0;      // KV pool; 0: n_parallel * n_ctx (reserved, backed only when used)
    int gpu_layers = -1;  // on a GPU: -1 as many as fit (model::ContextParams::gpu_layers)
    kernels::KvType kv_type = kernels::KvType::F16;
    int max_queue = 64;  // waiting requests beyond n_parallel; more are refused
    // Most tokens a sequence guesses ahead per step (speculative decoding); 0 turns it off.
    // Each sequence drafts only while its guesses are being kept (engine/speculation.h).
    int draft_max = 16;
    // A smaller model with the same vocabulary whose greedy continuation is the guess (else
    // prompt lookup); it must outlive the scheduler.
    const model::Model* draft_model = nullptr;
    // The persistent prompt cache (engine/prompt_cache_store.h); off unless enabled().
    PromptCacheParams prompt_cache;
};

// What the /slots API did (llama-server's slot save/restore).
struct SlotFileResult {
    size_t n_tokens = 0;
    size_t bytes = 0;
    double ms = 0;
};

struct SchedulerStats {
    int running = 0;
    int queued = 0;
    int n_parallel = 0;
    int kv_pages_used = 0;
    int kv_pages_total = 0;
    uint64_t prompt_tokens = 0;  // evaluated since start (not counting cache hits)
    uint64_t cached_tokens = 0;  // prompt tokens served from the prefix cache
    uint64_t generated_tokens = 0;
    uint64_t draft_tokens = 0;    // guessed ahead by speculative decoding
    uint64_t draft_accepted = 0;  // of which the model kept
};

class BatchScheduler {
  public:
    BatchScheduler(const model::Model& model, SchedulerParams params);
    ~BatchScheduler();  // cancels what is running or queued, then stops
    BatchScheduler(const BatchScheduler&) = delete;
    BatchScheduler& operator=(const BatchScheduler&) = delete;

    // Queues the request; false when the queue is full (the caller answers "busy"). Throws
    // lokal::Error for a request that can never run (empty prompt, prompt longer than the
    // context, bad sampling parameters).
    bool submit(std::shared_ptr<SequenceRequest> request);
    SchedulerStats stats() const;
    // The context each sequence gets: the n_ctx it was made with, or the largest a request has
    // asked for since (a request for more than the model's Context holds waits until nothing
    // runs, then the scheduler makes a new, larger Context: the KV cache, and the RoPE factors
    // that depend on the context size, such as Phi-3's LongRoPE, are made afresh).
    int n_ctx() const { return n_ctx_.load(); }
    // The context a request asking for `requested` (Ollama's num_ctx; 0: none) gets: its own,
    // clamped to the model's training context as Ollama does, or n_ctx().
    int context_for(int requested) const;
    int gpu_layers() const { return gpu_layers_.load(); }  // of the model's layers, on the GPU
    const model::Model& model() const { return model_; }
    // The persistent prompt cache; null when off.
    PromptCacheStore* prompt_cache() const { return prompt_cache_.get(); }
    // llama-server's /slots actions, run between two steps: save slot id's cached tokens to a
    // named snapshot, restore one into an idle slot, or forget the slot's cache. Throw
    // lokal::Error (NotFound: no such slot or file; Busy: the slot is running).
    SlotFileResult slot_save(int id, const std::string& name);
    SlotFileResult slot_restore(int id, const std::string& name);
    size_t slot_erase(int id);
    // Stops taking work, cancels everything, and joins the thread (idempotent).
    void shutdown();

  private:
    struct Slot;
    void loop();
    void admit(Slot& slot, std::shared_ptr<SequenceRequest> request);
    void step();
    void finish(Slot& slot, StopReason reason, const std::string& error = {});
    void on_logits(Slot& slot, const float* logits);
    // The tokens slot guesses will follow its pending one, at most `room`.
    std::vector<int32_t> draft(Slot& slot, int room);
    // Samples from the logits of slot's pending token (row) and of its draft (the rows after),
    // keeping draft tokens while they are what was sampled; the rest leave the KV cache.
    void verify(Slot& slot, int row);
    // The prompt cache's hooks (scheduler_prompt_cache.cpp): a longer prefix than `reuse`
    // from a snapshot into the slot (true: done, reuse updated), and a finished slot's rows
    // to a snapshot.
    bool restore_from_cache(Slot& slot, const std::vector<int32_t>& prompt, size_t& reuse);
    void save_to_cache(const Slot& slot);
    // Runs fn on the scheduler thread between two steps and waits for it (rethrows).
    void between_steps(std::function<void()> fn);
    void run_tasks();
    Slot& idle_slot(int id);  // for the /slots API: throws NotFound or Busy
    bool make_room();         // frees the KV of the least recently used idle slot
    // Makes the Context for `params_` and publishes its sizes to other threads.
    void make_context();
    // With nothing running: a new Context whose sequences hold n_ctx positions, with gpu_layers
    // layers on the GPU. On failure the old one is made again and the error is thrown.
    void rebuild(int n_ctx, int gpu_layers);
    // The GPU layers a request asks for, when that is not what the Context has; else -1.
    int gpu_layers_change(const SequenceRequest& r) const;

    const model::Model& model_;
    SchedulerParams params_;
    const bool kv_rows_auto_;  // params.kv_rows was 0: the pool follows n_parallel * n_ctx
    // ctx_ is replaced (grow) on the scheduler thread; other threads read these instead.
    std::unique_ptr<model::Context> ctx_;
    std::atomic<int> n_ctx_{0}, ctx_n_ctx_{0}, gpu_layers_{0}, kv_pages_total_{0};
    std::vector<std::unique_ptr<Slot>> slots_;
    uint64_t clock_ = 0;

    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::shared_ptr<SequenceRequest>> queue_;
    bool stopping_ = false;
    std::atomic<int> running_{0};
    std::atomic<uint64_t> prompt_tokens_{0}, cached_tokens_{0}, generated_tokens_{0};
    std::atomic<uint64_t> draft_tokens_{0}, draft_accepted_{0};
    std::atomic<int> kv_pages_used_{0};
    std::vector<float> scratch_logits_;
    std::unique_ptr<PromptCacheStore> prompt_cache_;
    std::unique_ptr<DraftModel> draft_;        // params_.draft_model's sequences, one per slot
    std::deque<std::function<void()>> tasks_;  // between_steps, under mutex_
    std::thread thread_;
};

}  // namespace lokal::engine
