#include "engine/draft_model.h"

#include <algorithm>

#include "base/error.h"
#include "tokenizer/draft_vocabulary.h"
#include "tokenizer/tokenizer.h"

namespace lokal::engine {

void check_draft_vocabulary(const model::Model& target, const model::Model& draft) {
    tokenizer::check_draft_vocabulary(target.tokenizer(), draft.tokenizer());
}

DraftModel::DraftModel(const model::Model& target, const model::Model& draft, int n_seq, int n_ctx,
                       int n_threads)
    : draft_(draft), held_((size_t)n_seq), picker_((size_t)n_seq) {
    check_draft_vocabulary(target, draft);
    model::ContextParams cp;
    cp.n_ctx = std::min(n_ctx, draft.config().n_ctx_train);
    cp.kv_rows = n_seq * cp.n_ctx;
    cp.n_threads = n_threads;
    ctx_ = std::make_unique<model::Context>(draft, cp);
}

void DraftModel::set_sampling(int seq, const sampling::SamplingParams& request) {
    std::optional<sampling::Sampler>& picker = picker_.at((size_t)seq);
    picker.reset();
    const bool penalised = request.repeat_last_n != 0 &&
                           (request.repeat_penalty != 1.0f || request.presence_penalty != 0 ||
                            request.frequency_penalty != 0);
    if (!penalised && request.logit_bias.empty()) return;  // the plain argmax is the same
    sampling::SamplingParams greedy;
    greedy.temperature = 0;
    greedy.seed = 0;  // never drawn from: greedy
    greedy.repeat_penalty = request.repeat_penalty;
    greedy.repeat_last_n = request.repeat_last_n;
    greedy.presence_penalty = request.presence_penalty;
    greedy.frequency_penalty = request.frequency_penalty;
    const int n_vocab = ctx_->n_vocab();
    for (const auto& [id, bias] : request.logit_bias) {
        // Padded vocabularies may differ in length; the padding is never a guess worth biasing.
        if (id < n_vocab) greedy.logit_bias.emplace(id, bias);
    }
    picker.emplace(std::move(greedy), n_vocab);
}

int32_t DraftModel::pick(int seq, const float* logits) {
    std::optional<sampling::Sampler>& picker = picker_[(size_t)seq];
    if (!picker) return (int32_t)(std::max_element(logits, logits + ctx_->n_vocab()) - logits);
    try {
        return picker->sample(logits);
    } catch (const Error&) {
        return -1;  // the request's own sampler reports it
    }
}

const float* DraftModel::catch_up(int seq, std::span<const int32_t> history) {
    std::vector<int32_t>& held = held_[(size_t)seq];
    size_t keep = 0;
    while (keep < held.size() && keep < history.size() && held[keep] == history[keep]) ++keep;
    keep = std::min(keep, history.size() - 1);  // the last token is evaluated for its logits
    ctx_->seq_truncate(seq, (int)keep);
    held.resize(keep);
    std::vector<model::BatchToken> batch;
    while (held.size() < history.size()) {
        const size_t take = std::min(history.size() - held.size(), (size_t)ctx_->n_batch());
        batch.clear();
        for (size_t i = 0; i < take; ++i) {
            const bool last = held.size() + i + 1 == history.size();
            batch.push_back({history[held.size() + i], seq, last});
        }
        if (!ctx_->decode(batch)) return nullptr;
        held.insert(held.end(), history.begin() + (ptrdiff_t)held.size(),
                    history.begin() + (ptrdiff_t)(held.size() + take));
    }
    return ctx_->logits(0);
}

std::vector<int32_t> DraftModel::propose(int seq, std::span<const int32_t> history,
                                         int max_tokens) {
    std::vector<int32_t> guess;
    if (history.empty() || max_tokens <= 0 || seq < 0 || (size_t)seq >= held_.size()) {
        return guess;
    }
    if ((int)history.size() + max_tokens > ctx_->n_ctx()) return guess;
    const float* logits = catch_up(seq, history);
    std::optional<sampling::Sampler>& picker = picker_[(size_t)seq];
    if (picker) {
        // The request's sampler has seen history too (prompt, answer, the pending token); only
        // its last repeat_last_n tokens count.
        picker->reset();
        const int window = picker->params().repeat_last_n;
        const size_t from =
            window < 0 ? 0 : history.size() - std::min(history.size(), (size_t)window);
        for (size_t i = from; i < history.size(); ++i) picker->accept(history[i]);
    }
    std::vector<int32_t>& held = held_[(size_t)seq];
    while (logits && (int)guess.size() < max_tokens) {
        const int32_t t = pick(seq, logits);
        if (t < 0) break;
        if (picker) picker->accept(t);
        guess.push_back(t);
        if ((int)guess.size() == max_tokens || draft_.tokenizer().is_eog(t)) break;
        const model::BatchToken next{t, seq, true};
        if (!ctx_->decode(std::span<const model::BatchToken>(&next, 1))) break;
        held.push_back(t);
        logits = ctx_->logits(0);
    }
    return guess;
}

}  // namespace lokal::engine
