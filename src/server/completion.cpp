#include "server/completion.h"

#include "base/error.h"
#include "server/http_error.h"

namespace lokal::server {

bool CompletionStream::next(std::vector<Piece>& out) {
    out.clear();
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait(lock, [&] { return done_ || !pieces_.empty(); });
    while (!pieces_.empty()) {
        out.push_back(std::move(pieces_.front()));
        pieces_.pop_front();
    }
    return !out.empty() || !done_;
}

void CompletionStream::wait_started() {
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait(lock, [&] { return done_ || !pieces_.empty(); });
}

std::shared_ptr<CompletionStream> start_completion(LoadedModel& model, std::vector<int32_t> prompt,
                                                   const GenerationParams& params, int n_probs,
                                                   engine::SequenceRequest extra) {
    if (!model.scheduler) {
        throw HttpError(400, "'" + model.name + "' is an embedding model; it cannot generate text");
    }
    auto stream = std::make_shared<CompletionStream>();
    auto req = std::make_shared<engine::SequenceRequest>(std::move(extra));
    req->prompt = std::move(prompt);
    req->sampling = params.sampling;
    req->options = params.generate;
    req->n_ctx = params.n_ctx;
    req->gpu_layers = params.gpu_layers;
    req->draft_max = params.draft_max;
    req->n_probs = n_probs;
    stream->cancel_ = req->cancel;
    stream->prompt_tokens_ = (int)req->prompt.size();
    std::weak_ptr<CompletionStream> weak = stream;
    req->on_token = [weak](const engine::TokenEvent& ev) {
        auto s = weak.lock();
        if (!s) return false;  // nobody reads any more
        {
            std::lock_guard<std::mutex> lock(s->mutex_);
            s->pieces_.push_back(Piece{std::string(ev.text), ev.token, ev.logprob, ev.top});
        }
        s->cv_.notify_all();
        return true;
    };
    req->on_done = [weak](const engine::SequenceResult& r) {
        auto s = weak.lock();
        if (!s) return;
        {
            std::lock_guard<std::mutex> lock(s->mutex_);
            s->result_ = r;
            s->done_ = true;
        }
        s->cv_.notify_all();
    };
    bool queued;
    try {
        queued = model.scheduler->submit(req);
    } catch (const Error& e) {
        throw HttpError(400, e.what());
    }
    if (!queued) throw HttpError(503, "the server is busy; try again shortly");
    return stream;
}

}  // namespace lokal::server
