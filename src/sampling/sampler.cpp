#include "sampling/sampler.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>
#include <string>

#include "base/error.h"

namespace lokal::sampling {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// The one candidate order used everywhere: higher logit first, ties by lower id. It is a strict
// total order, so every sort and partition below gives the same result on every platform.
struct Better {
    bool operator()(const Candidate& a, const Candidate& b) const {
        return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
    }
};
constexpr Better better;

bool usable(float logit) {
    return logit > kNegInf && logit <= FLT_MAX;
}

// Walks first[0..n) in `less` order, calling take(x) until it returns true (x is kept) or the
// range ends; returns how many were taken, and leaves them sorted at the front. Only as much of
// the range is sorted as the walk reaches: the prefix grows 256, 1024, 4096, ... at a time.
// first[0..sorted) must already be sorted and better than everything after it.
template <class T, class Less, class Take>
size_t walk_in_order(T* first, size_t n, size_t sorted, Less less, Take take) {
    size_t done = sorted;  // length of the sorted prefix
    size_t i = 0;
    while (i < n) {
        if (i == done) {
            const size_t m = std::min(n, std::max<size_t>(done * 4, 256));
            if (m < n) std::nth_element(first + done, first + m, first + n, less);
            std::sort(first + done, first + m, less);
            done = m;
        }
        if (take(first[i++])) break;
    }
    return i;
}

void require_finite(float v, const char* name) {
    if (!std::isfinite(v)) {
        throw Error(std::string("sampling: ") + name + " must be a finite number, got " +
                    std::to_string(v));
    }
}

uint64_t resolve_seed(uint64_t seed) {
    if (seed != kRandomSeed) return seed;
    std::random_device rd;
    return (uint64_t(rd()) << 32) ^ uint64_t(rd());
}

}  // namespace

void validate(const SamplingParams& p, int n_vocab) {
    if (n_vocab <= 0) throw Error("sampling: vocabulary size must be positive");
    require_finite(p.temperature, "temperature");
    require_finite(p.top_p, "top_p");
    require_finite(p.min_p, "min_p");
    require_finite(p.typical_p, "typical_p");
    require_finite(p.repeat_penalty, "repeat_penalty");
    require_finite(p.presence_penalty, "presence_penalty");
    require_finite(p.frequency_penalty, "frequency_penalty");
    if (p.repeat_penalty <= 0) {
        throw Error("sampling: repeat_penalty must be positive (1 turns it off), got " +
                    std::to_string(p.repeat_penalty));
    }
    if (p.repeat_last_n < -1) {
        throw Error(
            "sampling: repeat_last_n must be -1 (whole history), 0 (off) or positive, got " +
            std::to_string(p.repeat_last_n));
    }
    for (const auto& [id, bias] : p.logit_bias) {
        if (id < 0 || id >= n_vocab) {
            throw Error("sampling: logit_bias token id " + std::to_string(id) +
                        " is outside the vocabulary (0.." + std::to_string(n_vocab - 1) + ")");
        }
        if (std::isnan(bias) || bias == std::numeric_limits<float>::infinity()) {
            throw Error("sampling: logit_bias for token " + std::to_string(id) +
                        " must be a number or -infinity, got " + std::to_string(bias));
        }
    }
}

Sampler::Sampler(SamplingParams params, int n_vocab)
    : params_(std::move(params)), n_vocab_(n_vocab) {
    validate(params_, n_vocab_);
    seed_ = resolve_seed(params_.seed);
    rng_.seed(seed_);
    cand_.resize(n_vocab_);
    counts_.assign(n_vocab_, 0);
    if (params_.repeat_last_n > 0) history_.reserve(params_.repeat_last_n);
    if (params_.typical_p < 1.0f) scratch_.reserve(n_vocab_);
    if (params_.top_k > 0) heap_.reserve(std::min(params_.top_k, n_vocab_));
}

void Sampler::reset() {
    history_.clear();
    head_ = 0;
    rng_.seed(seed_);
}

void Sampler::accept(int32_t token) {
    const int cap = params_.repeat_last_n;
    if (cap == 0) return;
    if (cap < 0 || history_.size() < size_t(cap)) {
        history_.push_back(token);
        return;
    }
    history_[head_] = token;
    head_ = (head_ + 1) % size_t(cap);
}

void Sampler::load(const float* logits) {
    bool clean = true;
    for (int i = 0; i < n_vocab_; ++i) {
        const float l = logits[i];
        clean &= usable(l);
        cand_[i] = {i, l, 0.0f};
    }
    for (const auto& [id, bias] : params_.logit_bias) {
        float& l = cand_[id].logit;
        l += bias;
        clean &= usable(l);
    }
    clean &= apply_penalties();
    n_ = size_t(n_vocab_);
    sorted_ = false;
    if (clean) return;
    // Drop excluded tokens (-inf, NaN); clamp +inf so the softmax stays finite.
    size_t n = 0;
    for (int i = 0; i < n_vocab_; ++i) {
        Candidate c = cand_[i];
        if (!(c.logit > kNegInf)) continue;
        if (c.logit > FLT_MAX) c.logit = FLT_MAX;
        cand_[n++] = c;
    }
    n_ = n;
    if (n_ == 0) {
        throw Error(
            "sampling: every token is excluded (all logits are -infinity or NaN, or "
            "banned by logit_bias)");
    }
}

bool Sampler::apply_penalties() {
    const float rp = params_.repeat_penalty;
    const float presence = params_.presence_penalty;
    const float frequency = params_.frequency_penalty;
    if (params_.repeat_last_n == 0 || (rp == 1.0f && presence == 0.0f && frequency == 0.0f)) {
        return true;
    }
    bool clean = true;
    // cand_ is in id order here. counts_ is all zeros between calls: count the window, then
    // penalise each distinct token once and zero its count again.
    auto in_vocab = [&](int32_t t) { return t >= 0 && t < n_vocab_; };
    for (int32_t t : history_) {
        if (in_vocab(t)) ++counts_[t];
    }
    for (int32_t t : history_) {
        if (!in_vocab(t) || counts_[t] == 0) continue;
        const int c = counts_[t];
        counts_[t] = 0;
        float& l = cand_[t].logit;
        l = l > 0 ? l / rp : l * rp;
        l -= float(c) * frequency + presence;
        clean &= usable(l);
    }
    return clean;
}

void Sampler::keep_argmax() {
    size_t best = 0;
    for (size_t i = 1; i < n_; ++i) {
        if (better(cand_[i], cand_[best])) best = i;
    }
    cand_[0] = cand_[best];
    cand_[0].p = 1.0f;
    n_ = 1;
    sorted_ = true;
}

void Sampler::top_k(int k) {
    if (k <= 0 || size_t(k) >= n_ || sorted_) {
        if (k > 0 && size_t(k) < n_) n_ = size_t(k);
        return;
    }
    const size_t m = size_t(k);
    auto first = cand_.begin();
    if (m > n_ / 8) {
        std::nth_element(first, first + m, first + n_, better);
        std::sort(first, first + m, better);
    } else {
        // One pass with a heap of the m best so far, its worst on top: for realistic logits
        // almost every token loses a single comparison with that worst one.
        heap_.assign(first, first + m);
        std::make_heap(heap_.begin(), heap_.end(), better);
        for (size_t i = m; i < n_; ++i) {
            if (better(cand_[i], heap_.front())) {
                std::pop_heap(heap_.begin(), heap_.end(), better);
                heap_.back() = cand_[i];
                std::push_heap(heap_.begin(), heap_.end(), better);
            }
        }
        std::sort_heap(heap_.begin(), heap_.end(), better);
        std::copy(heap_.begin(), heap_.end(), first);
    }
    n_ = m;
    sorted_ = true;
}

// Writes exp((logit - max) * inv_temperature) / sum into p (and logit * inv_temperature into
// logit). Candidates keep their order.
void Sampler::softmax(float inv_temperature) {
    float max = cand_[0].logit;
    if (!sorted_) {
        for (size_t i = 1; i < n_; ++i) max = std::max(max, cand_[i].logit);
    }
    double sum = 0;
    for (size_t i = 0; i < n_; ++i) {
        Candidate& c = cand_[i];
        c.p = std::exp((c.logit - max) * inv_temperature);
        c.logit *= inv_temperature;
        sum += c.p;
    }
    for (size_t i = 0; i < n_; ++i) cand_[i].p = float(cand_[i].p / sum);
}

// Locally typical sampling: keep the tokens whose surprise (-log p) is closest to the entropy
// until their probabilities add up to p.
void Sampler::typical(float p) {
    if (!(p < 1.0f) || n_ <= 1) return;
    softmax(1.0f);
    double entropy = 0;
    for (size_t i = 0; i < n_; ++i) {
        const double q = cand_[i].p;
        if (q > 0) entropy -= q * std::log(q);
    }
    scratch_.resize(n_);
    for (size_t i = 0; i < n_; ++i) {
        const double q = cand_[i].p;
        const float score = q > 0 ? float(std::fabs(-std::log(q) - entropy)) : FLT_MAX;
        scratch_[i] = {score, cand_[i].id, uint32_t(i)};
    }
    auto closer = [](const Scored& a, const Scored& b) {
        return a.score < b.score || (a.score == b.score && a.id < b.id);
    };
    double cum = 0;
    const size_t keep = walk_in_order(scratch_.data(), n_, 0, closer, [&](const Scored& x) {
        cum += cand_[x.pos].p;
        return cum >= p;
    });
    // Gather the kept candidates at the front: mark them, then compact in place.
    for (size_t i = 0; i < keep; ++i) cand_[scratch_[i].pos].p = -1.0f;
    size_t n = 0;
    for (size_t i = 0; i < n_; ++i) {
        if (cand_[i].p < 0) cand_[n++] = cand_[i];
    }
    n_ = n;
    std::sort(cand_.begin(), cand_.begin() + n_, better);
    sorted_ = true;
}

// Nucleus sampling: the smallest set of most likely tokens whose probabilities add up to p.
// Without a previous sort, only as much of the vocabulary is sorted as the walk needs.
void Sampler::top_p(float p) {
    if (!(p < 1.0f) || n_ <= 1) return;
    float max = cand_[0].logit;
    if (!sorted_) {
        for (size_t i = 1; i < n_; ++i) max = std::max(max, cand_[i].logit);
    }
    double sum = 0;
    for (size_t i = 0; i < n_; ++i) {
        cand_[i].p = std::exp(cand_[i].logit - max);
        sum += cand_[i].p;
    }
    const double target = double(p) * sum;
    size_t sorted = sorted_ ? n_ : 0;
    if (!sorted_ && n_ > 1024) {
        // Find the nucleus roughly with a histogram of logits below the max (buckets of 1/8
        // nat, the last one catching everything further down), move the buckets it spans to
        // the front and sort only those. Each bucket holds strictly lower logits than the one
        // before, so the rest of the vocabulary is worse than the sorted prefix.
        constexpr int kBuckets = 256;
        constexpr float kScale = 8.0f;
        auto bucket = [&](float logit) {
            return std::min(kBuckets - 1, int((max - logit) * kScale));
        };
        double mass[kBuckets] = {};
        for (size_t i = 0; i < n_; ++i) mass[bucket(cand_[i].logit)] += cand_[i].p;
        int last = 0;
        for (double cum = mass[0]; cum < target && last < kBuckets - 1;) cum += mass[++last];
        auto mid = std::partition(cand_.begin(), cand_.begin() + n_,
                                  [&](const Candidate& c) { return bucket(c.logit) <= last; });
        std::sort(cand_.begin(), mid, better);
        sorted = size_t(mid - cand_.begin());
    }
    double cum = 0;
    const size_t i = walk_in_order(cand_.data(), n_, sorted, better, [&](const Candidate& c) {
        cum += c.p;
        return cum >= target;
    });
    n_ = i;
    sorted_ = true;  // everything kept lies in the sorted prefix
}

// Keep tokens with p >= p_min * p_max, i.e. logit >= max_logit + log(p_min).
void Sampler::min_p(float p) {
    if (!(p > 0.0f) || n_ <= 1) return;
    float max = cand_[0].logit;
    if (!sorted_) {
        for (size_t i = 1; i < n_; ++i) max = std::max(max, cand_[i].logit);
    }
    const float threshold = max + std::log(p);
    size_t n = 0;
    for (size_t i = 0; i < n_; ++i) {
        if (cand_[i].logit >= threshold) cand_[n++] = cand_[i];  // stable: order is kept
    }
    n_ = std::max<size_t>(n, 1);  // the max always passes; guard against rounding anyway
}

void Sampler::finish_chain() {
    if (greedy()) {
        keep_argmax();
        return;
    }
    top_k(params_.top_k);
    typical(params_.typical_p);
    top_p(params_.top_p);
    min_p(params_.min_p);
    softmax(1.0f / params_.temperature);
}

double Sampler::uniform() {
    return double(rng_() >> 11) * 0x1.0p-53;
}

int32_t Sampler::sample(const float* logits) {
    load(logits);
    finish_chain();
    if (greedy()) return cand_[0].id;
    double total = 0;
    for (size_t i = 0; i < n_; ++i) total += cand_[i].p;
    const double r = uniform() * total;
    double cum = 0;
    size_t last = 0;
    for (size_t i = 0; i < n_; ++i) {
        if (cand_[i].p <= 0) continue;
        cum += cand_[i].p;
        last = i;
        if (cum > r) return cand_[i].id;
    }
    return cand_[last].id;  // r rounded up to the total
}

std::span<const Candidate> Sampler::candidates(const float* logits) {
    load(logits);
    finish_chain();
    if (!sorted_) std::sort(cand_.begin(), cand_.begin() + n_, better);
    sorted_ = true;
    return {cand_.data(), n_};
}

}  // namespace lokal::sampling
