#include "engine/batch_scheduler.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <future>
#include <optional>
#include <utility>

#include "base/error.h"
#include "engine/context_snapshot.h"
#include "model/compute_device.h"
#include "sampling/stop_strings.h"
#include "tokenizer/stream_decoder.h"
#include "tokenizer/tokenizer.h"

namespace lokal::engine {

using Clock = std::chrono::steady_clock;

struct BatchScheduler::Slot {
    int seq = 0;
    std::shared_ptr<SequenceRequest> req;  // null while idle
    std::vector<int32_t> tokens;           // what this slot's KV rows hold, in order
    size_t prompt_done = 0;                // prompt tokens in the KV rows
    int32_t pending = -1;                  // sampled, to be evaluated in the next step
    std::vector<int32_t> draft;            // guessed to follow pending, evaluated beside it
    std::optional<DraftPolicy> policy;
    int n_ctx = 0;
    std::optional<sampling::Sampler> sampler;
    std::optional<tokenizer::StreamDecoder> decoder;
    std::optional<sampling::StopMatcher> stops;
    SequenceResult result;
    uint64_t last_used = 0;
    Clock::time_point started, first_token;
};

namespace {

double seconds_between(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
}

size_t common_prefix(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
    const size_t n = std::min(a.size(), b.size());
    size_t i = 0;
    while (i < n && a[i] == b[i]) ++i;
    return i;
}

// log-softmax of the chosen token and the n most likely, from the raw logits.
void fill_logprobs(const float* logits, int n_vocab, int32_t chosen, int n_top, TokenEvent& ev) {
    float mx = -INFINITY;
    for (int i = 0; i < n_vocab; ++i) mx = std::max(mx, logits[i]);
    double sum = 0;
    for (int i = 0; i < n_vocab; ++i) sum += std::exp((double)logits[i] - mx);
    const float log_z = mx + (float)std::log(sum);
    ev.logprob = logits[chosen] - log_z;
    if (n_top <= 0) return;
    std::vector<TokenLogprob> best;
    best.reserve(n_top + 1);
    for (int i = 0; i < n_vocab; ++i) {
        if ((int)best.size() == n_top && logits[i] <= best.back().logprob) continue;
        TokenLogprob t{i, logits[i]};
        auto at = std::upper_bound(best.begin(), best.end(), t, [](const auto& a, const auto& b) {
            return a.logprob > b.logprob;
        });
        best.insert(at, t);
        if ((int)best.size() > n_top) best.pop_back();
    }
    for (auto& t : best) t.logprob -= log_z;
    ev.top = std::move(best);
}

}  // namespace

BatchScheduler::BatchScheduler(const model::Model& model, SchedulerParams params)
    : model_(model), params_(std::move(params)), kv_rows_auto_(params_.kv_rows <= 0) {
    params_.n_parallel = std::max(1, params_.n_parallel);
    params_.n_ctx = std::max(16, std::min(params_.n_ctx, model.config().n_ctx_train));
    if (kv_rows_auto_) params_.kv_rows = params_.n_parallel * params_.n_ctx;
    make_context();
    for (int i = 0; i < params_.n_parallel; ++i) {
        slots_.push_back(std::make_unique<Slot>());
        slots_.back()->seq = i;
    }
    scratch_logits_.resize(ctx_->n_vocab());
    if (params_.prompt_cache.enabled()) {
        prompt_cache_ = std::make_unique<PromptCacheStore>(
            params_.prompt_cache, snapshot_key(*ctx_, params_.prompt_cache.model));
    }
    thread_ = std::thread([this] { loop(); });
}

void BatchScheduler::make_context() {
    model::ContextParams cp;
    // One sequence may use the whole pool when a request asks for a long context.
    cp.n_ctx = std::max(params_.n_ctx, std::min(params_.kv_rows, model_.config().n_ctx_train));
    cp.n_batch = params_.n_batch;
    cp.n_threads = params_.n_threads;
    cp.kv_rows = params_.kv_rows;
    cp.kv_type = params_.kv_type;
    cp.gpu_layers = params_.gpu_layers;
    ctx_ = std::make_unique<model::Context>(model_, cp);
    n_ctx_ = params_.n_ctx;
    ctx_n_ctx_ = ctx_->n_ctx();
    gpu_layers_ = ctx_->gpu_layers();
    kv_pages_total_ = ctx_->kv_stats().pages_total;
    kv_pages_used_ = ctx_->kv_stats().pages_used;
    if (params_.draft_model) {
        draft_.reset();
        draft_ = std::make_unique<DraftModel>(model_, *params_.draft_model, params_.n_parallel,
                                              ctx_->n_ctx(), params_.n_threads);
    }
}

int BatchScheduler::gpu_layers_change(const SequenceRequest& r) const {
    if (r.gpu_layers < 0 || !model::compute_device().gpu) return -1;
    const int want = std::min(r.gpu_layers, model_.config().n_layer);
    return want == gpu_layers_.load() ? -1 : want;
}

void BatchScheduler::rebuild(int n_ctx, int gpu_layers) {
    const SchedulerParams before = params_;
    // The prefix cache lives in the old KV rows, which go first so both never take memory at
    // once.
    for (auto& s : slots_) s->tokens.clear();
    // The weights on the GPU stay for the new context, unless it asks for fewer layers there
    // (they would stay with it, unused).
    std::vector<std::shared_ptr<const void>> weights;
    if (gpu_layers < 0 || gpu_layers >= gpu_layers_.load()) weights = ctx_->weights_handles();
    ctx_.reset();
    params_.n_ctx = n_ctx;
    params_.kv_rows = kv_rows_auto_ ? params_.n_parallel * n_ctx : std::max(params_.kv_rows, n_ctx);
    params_.gpu_layers = gpu_layers;
    try {
        make_context();
    } catch (...) {
        params_ = before;
        make_context();
        throw;
    }
}

int BatchScheduler::context_for(int requested) const {
    if (requested <= 0) return n_ctx_.load();
    return std::min(requested, model_.config().n_ctx_train);
}

BatchScheduler::~BatchScheduler() {
    shutdown();
}

void BatchScheduler::shutdown() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopping_ && !thread_.joinable()) return;
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

bool BatchScheduler::submit(std::shared_ptr<SequenceRequest> request) {
    LOKAL_ASSERT(request && request->on_token && request->on_done);
    if (request->prompt.empty()) throw Error("the prompt is empty");
    const int limit = context_for(request->n_ctx);
    if ((int)request->prompt.size() >= limit) {
        throw Error("the prompt is " + std::to_string(request->prompt.size()) +
                    " tokens but the context holds " + std::to_string(limit));
    }
    const int n_vocab = model_.config().n_vocab;
    for (int32_t t : request->prompt) {
        if (t < 0 || t >= n_vocab) {
            throw Error("token id " + std::to_string(t) + " is outside the vocabulary");
        }
    }
    sampling::validate(request->sampling, n_vocab);
    {
        std::lock_guard<std::mutex> lock(mutex_);
        // Requests a free slot will take at the next step do not count as waiting.
        const int free_slots = params_.n_parallel - running_.load();
        if (stopping_ || (int)queue_.size() >= params_.max_queue + free_slots) return false;
        queue_.push_back(std::move(request));
    }
    wake_.notify_all();
    return true;
}

SchedulerStats BatchScheduler::stats() const {
    SchedulerStats s;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        s.queued = (int)queue_.size();
    }
    s.running = running_.load();
    s.n_parallel = params_.n_parallel;
    s.kv_pages_used = kv_pages_used_.load();
    s.kv_pages_total = kv_pages_total_.load();
    s.prompt_tokens = prompt_tokens_.load();
    s.cached_tokens = cached_tokens_.load();
    s.generated_tokens = generated_tokens_.load();
    s.draft_tokens = draft_tokens_.load();
    s.draft_accepted = draft_accepted_.load();
    return s;
}

void BatchScheduler::loop() {
    for (;;) {
        std::vector<std::shared_ptr<SequenceRequest>> admitted;
        int grow_to = 0, layers_to = -1;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            wake_.wait(lock, [&] {
                return stopping_ || !queue_.empty() || !tasks_.empty() || running_.load() > 0;
            });
            if (stopping_) break;
            const int free_slots = params_.n_parallel - running_.load();
            while ((int)admitted.size() < free_slots && !queue_.empty()) {
                const int need = context_for(queue_.front()->n_ctx);
                const int layers = gpu_layers_change(*queue_.front());
                if (need > ctx_n_ctx_.load() || layers >= 0) {
                    // A new Context is made only when nothing runs; until then the requests
                    // behind this one wait too (first come, first served).
                    if (running_.load() > 0 || !admitted.empty()) break;
                    grow_to = std::max(need, n_ctx_.load());
                    layers_to = layers >= 0 ? layers : params_.gpu_layers;
                }
                admitted.push_back(std::move(queue_.front()));
                queue_.pop_front();
                if (grow_to > 0) break;
            }
        }
        run_tasks();
        if (grow_to > 0) {
            try {
                rebuild(grow_to, layers_to);
            } catch (const std::exception& e) {
                SequenceResult r;
                r.stats.reason = StopReason::Cancelled;
                r.error = "a context of " + std::to_string(grow_to) + " tokens" +
                          (layers_to >= 0 ? " with " + std::to_string(layers_to) + " GPU layers"
                                          : std::string()) +
                          " could not be made: " + e.what();
                admitted.front()->on_done(r);
                admitted.clear();
            }
        }
        for (auto& req : admitted) {
            Slot* best = nullptr;
            size_t best_len = 0;
            for (auto& s : slots_) {
                if (s->req) continue;
                const size_t len = common_prefix(s->tokens, req->prompt);
                if (!best || len > best_len ||
                    (len == best_len && s->last_used < best->last_used)) {
                    best = s.get();
                    best_len = len;
                }
            }
            LOKAL_ASSERT(best != nullptr);
            admit(*best, std::move(req));
        }
        try {
            step();
        } catch (const std::exception& e) {
            for (auto& s : slots_) {
                if (s->req) finish(*s, StopReason::Cancelled, e.what());
            }
        }
    }
    run_tasks();  // those that came with the stop
    // Shutting down: everything still running or waiting is cancelled, with an error, so a
    // client does not take the cut answer for a whole one.
    for (auto& s : slots_) {
        if (s->req)
            finish(*s, StopReason::Cancelled,
                   "the server is shutting down; the answer was cut short");
    }
    std::deque<std::shared_ptr<SequenceRequest>> left;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        left.swap(queue_);
    }
    for (auto& req : left) {
        SequenceResult r;
        r.stats.reason = StopReason::Cancelled;
        r.error = "the server is shutting down";
        req->on_done(r);
    }
}

void BatchScheduler::admit(Slot& slot, std::shared_ptr<SequenceRequest> request) {
    const std::vector<int32_t>& prompt = request->prompt;
    // The longest cached prefix in any slot, busy ones included (their pages are shared). At
    // least one prompt token is always evaluated, for its logits.
    const Slot* source = &slot;
    size_t reuse = common_prefix(slot.tokens, prompt);
    for (auto& s : slots_) {
        const size_t len = common_prefix(s->tokens, prompt);
        if (len > reuse) {
            reuse = len;
            source = s.get();
        }
    }
    reuse = std::min(reuse, prompt.size() - 1);
    const bool restored = prompt_cache_ && restore_from_cache(slot, prompt, reuse);
    if (restored) {
        // The slot holds the snapshot's rows already.
    } else if (source == &slot) {
        // A failed restore may have cleared the slot's own rows.
        reuse = std::min(reuse, (size_t)ctx_->seq_n_past(slot.seq));
        ctx_->seq_truncate(slot.seq, (int)reuse);
    } else {
        ctx_->seq_copy_prefix(source->seq, slot.seq, (int)reuse);
    }
    slot.tokens.assign(prompt.begin(), prompt.begin() + (ptrdiff_t)reuse);
    slot.prompt_done = reuse;
    slot.pending = -1;
    slot.draft.clear();
    slot.policy.emplace(request->draft_max < 0 ? params_.draft_max
                                               : std::min(request->draft_max, params_.draft_max));
    slot.n_ctx = context_for(request->n_ctx);
    if (slot.n_ctx > params_.n_ctx) {
        // The Context holds it already (the pool is larger than one sequence's share).
        params_.n_ctx = slot.n_ctx;
        n_ctx_ = slot.n_ctx;
    }
    slot.result = SequenceResult{};
    slot.result.cached_tokens = (int)reuse;
    slot.result.stats.prompt_tokens = (int)(prompt.size() - reuse);
    slot.sampler.emplace(request->sampling, ctx_->n_vocab());
    for (int32_t t : prompt) slot.sampler->accept(t);
    if (draft_) draft_->set_sampling(slot.seq, request->sampling);
    slot.decoder.emplace(model_.tokenizer());
    slot.stops.emplace(request->options.stop);
    slot.started = Clock::now();
    slot.req = std::move(request);
    cached_tokens_ += reuse;
    running_.fetch_add(1);
}

bool BatchScheduler::make_room() {
    Slot* victim = nullptr;
    for (auto& s : slots_) {
        if (s->req || s->tokens.empty()) continue;
        if (!victim || s->last_used < victim->last_used) victim = s.get();
    }
    if (!victim) return false;
    ctx_->seq_truncate(victim->seq, 0);
    victim->tokens.clear();
    return true;
}

void BatchScheduler::step() {
    // Cancelled sequences leave before anything is computed for them.
    for (auto& s : slots_) {
        if (s->req && s->req->cancel->load()) finish(*s, StopReason::Cancelled);
    }
    const int budget = ctx_->n_batch();
    int generating = 0;
    for (auto& s : slots_) generating += s->req && s->pending >= 0;
    // Guesses never make a pass one whose rows are computed differently than alone (a GPU's
    // tiled products), so they cannot change the answer.
    int draft_room = std::min(budget, ctx_->exact_batch_rows()) - generating;
    for (auto& s : slots_) {
        s->draft.clear();
        if (s->req && s->pending >= 0 && draft_room > 0) {
            s->draft = draft(*s, draft_room);
            draft_room -= (int)s->draft.size();
        }
    }
    // Generating sequences first (their pending token, then its draft), then prompt chunks.
    std::vector<model::BatchToken> batch;
    std::vector<Slot*> owner;  // per batch token
    const auto build = [&] {
        batch.clear();
        owner.clear();
        for (auto& s : slots_) {
            if (!s->req || s->pending < 0) continue;
            batch.push_back({s->pending, s->seq, true});
            for (int32_t t : s->draft) batch.push_back({t, s->seq, true});
            owner.insert(owner.end(), 1 + s->draft.size(), s.get());
        }
        for (auto& s : slots_) {
            if (!s->req || s->pending >= 0) continue;
            const auto& prompt = s->req->prompt;
            const size_t take = std::min(prompt.size() - s->prompt_done,
                                         (size_t)std::max(0, budget - (int)batch.size()));
            for (size_t i = 0; i < take; ++i) {
                const bool last = s->prompt_done + i + 1 == prompt.size();
                batch.push_back({prompt[s->prompt_done + i], s->seq, last});
                owner.push_back(s.get());
            }
        }
    };
    build();
    if (batch.empty()) return;
    while (!ctx_->decode(batch)) {
        const bool drafted = std::any_of(slots_.begin(), slots_.end(),
                                         [](const auto& s) { return !s->draft.empty(); });
        if (drafted) {  // guesses are the first thing a full pool goes without
            for (auto& s : slots_) s->draft.clear();
            build();
            continue;
        }
        if (make_room()) continue;
        // Nothing left to evict: the longest running sequence gives up its place.
        Slot* longest = nullptr;
        for (Slot* s : owner) {
            if (!longest || s->tokens.size() > longest->tokens.size()) longest = s;
        }
        finish(*longest, StopReason::ContextFull, "the KV cache is full");
        ctx_->seq_truncate(longest->seq, 0);
        longest->tokens.clear();
        return;
    }
    kv_pages_used_ = ctx_->kv_stats().pages_used;
    int row = 0;
    std::vector<std::pair<Slot*, int>> prompt_rows, generating_rows;
    for (size_t i = 0; i < batch.size(); ++i) {
        Slot& s = *owner[i];
        if (s.pending >= 0) {  // the pending token; its draft's rows follow
            generating_rows.emplace_back(&s, row);
            s.tokens.push_back(s.pending);
            s.pending = -1;
            row += 1 + (int)s.draft.size();
            i += s.draft.size();
            continue;
        }
        s.tokens.push_back(batch[i].token);
        ++s.prompt_done;
        ++prompt_tokens_;
        if (batch[i].logits) prompt_rows.emplace_back(&s, row++);
    }
    for (auto [slot, r] : generating_rows) {
        if (slot->req) verify(*slot, r);
    }
    for (auto [slot, r] : prompt_rows) {
        if (slot->req) on_logits(*slot, ctx_->logits(r));
    }
}

std::vector<int32_t> BatchScheduler::draft(Slot& slot, int room) {
    // The pending token and its draft must fit the sequence's context (and leave a position
    // for the token sampled after them).
    room = std::min({room, slot.n_ctx - (int)slot.tokens.size() - 2,
                     model::Context::exact_rows_per_sequence() - 1});
    const SequenceRequest& req = *slot.req;
    if (req.options.max_tokens >= 0) {
        room = std::min(room, req.options.max_tokens - slot.result.stats.generated_tokens);
    }
    const int want = std::min(room, slot.policy->want());
    if (want <= 0) return {};
    slot.tokens.push_back(slot.pending);
    std::vector<int32_t> guess = req.draft_source ? req.draft_source(slot.tokens, want)
                                 : draft_         ? draft_->propose(slot.seq, slot.tokens, want)
                                                  : prompt_lookup_draft(slot.tokens, want);
    slot.tokens.pop_back();
    if ((int)guess.size() > want) guess.resize(want);
    const int n_vocab = ctx_->n_vocab();
    const auto bad = std::find_if(guess.begin(), guess.end(),
                                  [n_vocab](int32_t t) { return t < 0 || t >= n_vocab; });
    guess.erase(bad, guess.end());
    return guess;
}

void BatchScheduler::verify(Slot& slot, int row) {
    const size_t drafted = slot.draft.size();
    slot.result.stats.draft_tokens += (int)drafted;
    draft_tokens_ += drafted;
    on_logits(slot, ctx_->logits(row));
    size_t kept = 0;
    while (kept < drafted && slot.req && slot.pending == slot.draft[kept]) {
        slot.tokens.push_back(slot.pending);
        slot.pending = -1;
        ++kept;
        ++slot.result.stats.draft_accepted;
        ++draft_accepted_;
        on_logits(slot, ctx_->logits(row + (int)kept));
    }
    if (kept < drafted) ctx_->seq_truncate(slot.seq, (int)slot.tokens.size());
    slot.policy->record((int)drafted, (int)kept);
}

void BatchScheduler::on_logits(Slot& slot, const float* logits) {
    SequenceRequest& req = *slot.req;
    GenerateStats& stats = slot.result.stats;
    const tokenizer::Tokenizer& tok = model_.tokenizer();
    const int n_vocab = ctx_->n_vocab();
    if (stats.generated_tokens == 0) {
        slot.first_token = Clock::now();
        stats.prompt_seconds = seconds_between(slot.started, slot.first_token);
    }
    if (req.cancel->load()) return finish(slot, StopReason::Cancelled);
    if (req.options.max_tokens >= 0 && stats.generated_tokens >= req.options.max_tokens) {
        return finish(slot, StopReason::MaxTokens);
    }
    int32_t next;
    try {
        next = req.constrain && !req.allows ? -1 : slot.sampler->sample(logits);
        if (req.constrain && (next < 0 || !req.allows(next))) {
            std::copy(logits, logits + n_vocab, scratch_logits_.begin());
            req.constrain(scratch_logits_.data(), n_vocab);
            next = slot.sampler->sample(scratch_logits_.data());
        }
    } catch (const std::exception& e) {
        return finish(slot, StopReason::Cancelled, e.what());
    }
    slot.sampler->accept(next);
    if (req.on_accept) req.on_accept(next);
    const auto& stop_tokens = req.options.stop_tokens;
    if (tok.is_eog(next) ||
        std::find(stop_tokens.begin(), stop_tokens.end(), next) != stop_tokens.end()) {
        return finish(slot, StopReason::EndOfGeneration);
    }
    stats.tokens.push_back(next);
    ++stats.generated_tokens;
    ++generated_tokens_;
    const sampling::StopMatcher::Result r = slot.stops->feed(slot.decoder->push(next));
    TokenEvent ev;
    ev.text = r.text;
    ev.token = next;
    if (req.n_probs >= 0) fill_logprobs(logits, n_vocab, next, req.n_probs, ev);
    if (!req.on_token(ev)) return finish(slot, StopReason::Cancelled);
    if (r.stopped) return finish(slot, StopReason::StopString);
    if ((int)slot.tokens.size() + 1 >= slot.n_ctx) return finish(slot, StopReason::ContextFull);
    slot.pending = next;
}

void BatchScheduler::finish(Slot& slot, StopReason reason, const std::string& error) {
    SequenceRequest& req = *slot.req;
    SequenceResult& result = slot.result;
    result.stats.reason = reason;
    result.error = error;
    if (reason == StopReason::StopString) result.stop_string = slot.stops->matched();
    if (reason != StopReason::StopString && error.empty()) {
        std::string tail = slot.stops->feed(slot.decoder->flush()).text;
        tail += slot.stops->flush();
        if (!tail.empty()) {
            TokenEvent ev;
            ev.text = tail;
            req.on_token(ev);
        }
    }
    if (result.stats.generated_tokens > 0) {
        result.stats.generate_seconds = seconds_between(slot.first_token, Clock::now());
    }
    result.context = req.prompt;
    result.context.insert(result.context.end(), result.stats.tokens.begin(),
                          result.stats.tokens.end());
    // Guessed rows past the last kept token (a sequence that ended within its draft).
    if (ctx_->seq_n_past(slot.seq) > (int)slot.tokens.size()) {
        ctx_->seq_truncate(slot.seq, (int)slot.tokens.size());
    }
    if (prompt_cache_ && error.empty()) save_to_cache(slot);
    auto keep = std::move(slot.req);
    slot.pending = -1;
    slot.last_used = ++clock_;
    running_.fetch_sub(1);
    keep->on_done(result);
}

// ---- the persistent prompt cache and the /slots API ----------------------------------------

bool BatchScheduler::restore_from_cache(Slot& slot, const std::vector<int32_t>& prompt,
                                        size_t& reuse) {
    if (prompt.size() <= reuse + 1) return false;
    // The cache only ever saves work: whatever goes wrong here, the prompt is evaluated.
    try {
        const PromptCacheStore::Match m = prompt_cache_->find(prompt, reuse);
        const size_t n = std::min(m.n, prompt.size() - 1);  // one token is evaluated, for logits
        // A few tokens are evaluated faster than a snapshot is read.
        const size_t worth = (size_t)std::max(1, prompt_cache_->params().min_tokens / 4);
        if (!m.snapshot || n < reuse + worth) return false;
        if (!restore_sequence(*ctx_, slot.seq, *m.snapshot, n)) {
            slot.tokens.clear();
            return false;
        }
        reuse = n;
        return true;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "lokal: prompt cache: restore failed: %s\n", e.what());
        ctx_->seq_truncate(slot.seq, 0);
        slot.tokens.clear();
        return false;
    }
}

void BatchScheduler::save_to_cache(const Slot& slot) {
    const size_t n = slot.tokens.size();
    if ((int)n < prompt_cache_->params().min_tokens || ctx_->seq_n_past(slot.seq) != (int)n) return;
    if (prompt_cache_->covers(slot.tokens)) return;
    // The rows are copied here; the file is written on the store's thread.
    try {
        prompt_cache_->save(snapshot_sequence(*ctx_, slot.seq, slot.tokens, prompt_cache_->key()));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "lokal: prompt cache: not saved: %s\n", e.what());
    }
}

void BatchScheduler::run_tasks() {
    for (;;) {
        std::function<void()> task;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (tasks_.empty()) return;
            task = std::move(tasks_.front());
            tasks_.pop_front();
        }
        task();
    }
}

void BatchScheduler::between_steps(std::function<void()> fn) {
    auto done = std::make_shared<std::promise<void>>();
    std::future<void> result = done->get_future();
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopping_) throw Error("the server is shutting down", ErrorKind::Busy);
        tasks_.push_back([fn = std::move(fn), done] {
            try {
                fn();
                done->set_value();
            } catch (...) {
                done->set_exception(std::current_exception());
            }
        });
    }
    wake_.notify_all();
    result.get();
}

namespace {

double ms_since(Clock::time_point t) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

}  // namespace

BatchScheduler::Slot& BatchScheduler::idle_slot(int id) {
    if (id < 0 || id >= (int)slots_.size()) {
        throw Error("no slot " + std::to_string(id), ErrorKind::NotFound);
    }
    Slot& slot = *slots_[(size_t)id];
    if (slot.req) throw Error("slot " + std::to_string(id) + " is busy", ErrorKind::Busy);
    return slot;
}

SlotFileResult BatchScheduler::slot_save(int id, const std::string& name) {
    if (!prompt_cache_) throw Error("the prompt cache is off", ErrorKind::Unsupported);
    if (!valid_snapshot_name(name)) throw Error("invalid file name: " + name);
    SlotFileResult r;
    between_steps([&] {
        const Slot& slot = idle_slot(id);
        const auto t0 = Clock::now();
        auto s = snapshot_sequence(*ctx_, slot.seq, slot.tokens, prompt_cache_->key());
        prompt_cache_->save_named(name, *s);
        r = {s->tokens.size(), s->rows.size(), ms_since(t0)};
    });
    return r;
}

SlotFileResult BatchScheduler::slot_restore(int id, const std::string& name) {
    if (!prompt_cache_) throw Error("the prompt cache is off", ErrorKind::Unsupported);
    const auto t0 = Clock::now();
    const KvSnapshot s = prompt_cache_->load_named(name);
    SlotFileResult r;
    between_steps([&] {
        Slot& slot = idle_slot(id);
        if ((int)s.tokens.size() >= ctx_->n_ctx())
            throw Error("the snapshot is longer than the context");
        slot.tokens.clear();
        if (!restore_sequence(*ctx_, slot.seq, s, s.tokens.size())) {
            throw Error("the KV cache has no room for the snapshot", ErrorKind::Busy);
        }
        slot.tokens = s.tokens;
        slot.last_used = ++clock_;
        kv_pages_used_ = ctx_->kv_stats().pages_used;
        r = {s.tokens.size(), s.rows.size(), ms_since(t0)};
    });
    return r;
}

size_t BatchScheduler::slot_erase(int id) {
    size_t n = 0;
    between_steps([&] {
        Slot& slot = idle_slot(id);
        n = slot.tokens.size();
        ctx_->seq_truncate(slot.seq, 0);
        slot.tokens.clear();
        kv_pages_used_ = ctx_->kv_stats().pages_used;
    });
    return n;
}

}  // namespace lokal::engine
