// One generation request on a loaded model, seen from an HTTP handler thread: the request goes
// to the model's batch scheduler, and its tokens come back through a channel the handler reads
// (blocking) while it writes the response. Dropping interest (cancel) stops the sequence within
// one step.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/batch_scheduler.h"
#include "server/model_manager.h"
#include "server/request_options.h"

namespace lokal::server {

struct Piece {
    std::string text;
    int32_t token = -1;  // -1: text flushed at the end, no token of its own
    float logprob = 0;
    std::vector<engine::TokenLogprob> top;
};

class CompletionStream {
  public:
    // Waits for what the model produced since the last call. Returns false once the sequence
    // has ended and everything was read; result() is then final.
    bool next(std::vector<Piece>& out);
    // Waits until the prompt is evaluated: the first token came, or the sequence ended.
    void wait_started();
    void cancel() { cancel_->store(true); }
    const engine::SequenceResult& result() const { return result_; }
    int prompt_tokens() const { return prompt_tokens_; }

  private:
    friend std::shared_ptr<CompletionStream> start_completion(LoadedModel&, std::vector<int32_t>,
                                                              const GenerationParams&, int,
                                                              engine::SequenceRequest);
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<Piece> pieces_;
    bool done_ = false;
    engine::SequenceResult result_;
    int prompt_tokens_ = 0;
    std::shared_ptr<std::atomic<bool>> cancel_;
};

// Queues the prompt. `extra` carries structured-output hooks (constrain, on_accept). Throws
// HttpError 400 for a prompt that does not fit the context, 503 when the queue is full.
std::shared_ptr<CompletionStream> start_completion(LoadedModel& model, std::vector<int32_t> prompt,
                                                   const GenerationParams& params, int n_probs,
                                                   engine::SequenceRequest extra = {});

}  // namespace lokal::server
