#include "sampling/sampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <vector>

#include "base/error.h"

namespace lokal::sampling {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// Plain params: no filters, no penalties, a fixed seed. Tests switch on what they test.
SamplingParams plain(float temperature = 1.0f) {
    SamplingParams p;
    p.temperature = temperature;
    p.top_k = 0;
    p.top_p = 1.0f;
    p.min_p = 0.0f;
    p.typical_p = 1.0f;
    p.repeat_penalty = 1.0f;
    p.seed = 1234;
    return p;
}

// Deterministic pseudo-random logits in [-scale, scale) without std::*_distribution.
std::vector<float> random_logits(int n, uint64_t seed, float scale = 5.0f) {
    std::mt19937_64 rng(seed);
    std::vector<float> v(n);
    for (float& x : v) x = float((double(rng() >> 11) * 0x1.0p-53 * 2.0 - 1.0) * scale);
    return v;
}

// Logits whose softmax is exactly the given probabilities (up to rounding).
std::vector<float> logits_of(const std::vector<double>& probs) {
    std::vector<float> v;
    v.reserve(probs.size());
    for (double p : probs) v.push_back(float(std::log(p)));
    return v;
}

std::set<int32_t> ids(std::span<const Candidate> c) {
    std::set<int32_t> s;
    for (const Candidate& x : c) s.insert(x.id);
    return s;
}

std::map<int32_t, float> logit_by_id(std::span<const Candidate> c) {
    std::map<int32_t, float> m;
    for (const Candidate& x : c) m[x.id] = x.logit;
    return m;
}

TEST(Sampler, DefaultsMatchOllama) {
    SamplingParams p;
    EXPECT_FLOAT_EQ(p.temperature, 0.8f);
    EXPECT_EQ(p.top_k, 40);
    EXPECT_FLOAT_EQ(p.top_p, 0.9f);
    EXPECT_FLOAT_EQ(p.min_p, 0.0f);
    EXPECT_FLOAT_EQ(p.typical_p, 1.0f);
    EXPECT_FLOAT_EQ(p.repeat_penalty, 1.1f);
    EXPECT_EQ(p.repeat_last_n, 64);
    EXPECT_EQ(p.seed, kRandomSeed);
    Sampler a(p, 10), b(p, 10);
    EXPECT_NE(a.seed(), kRandomSeed);
    EXPECT_NE(a.seed(), b.seed());  // two random seeds colliding: 2^-64
}

TEST(Sampler, GreedyPicksArgmax) {
    const std::vector<float> logits = {0.1f, -3.0f, 2.5f, 7.0f, 6.9f, -kInf};
    for (float t : {0.0f, -1.0f}) {
        Sampler s(plain(t), (int)logits.size());
        for (int i = 0; i < 5; ++i) EXPECT_EQ(s.sample(logits.data()), 3);
        auto c = s.candidates(logits.data());
        ASSERT_EQ(c.size(), 1u);
        EXPECT_EQ(c[0].id, 3);
        EXPECT_EQ(c[0].p, 1.0f);
    }
}

TEST(Sampler, GreedyTiesGoToLowestId) {
    const std::vector<float> logits = {1.0f, 4.0f, 2.0f, 4.0f, 4.0f};
    Sampler s(plain(0.0f), 5);
    EXPECT_EQ(s.sample(logits.data()), 1);
}

TEST(Sampler, TopK1EqualsGreedyAtAnyTemperature) {
    const int n = 1000;
    for (uint64_t seed = 0; seed < 5; ++seed) {
        auto logits = random_logits(n, seed);
        logits[17] = logits[n - 1] = 100.0f;  // a tie at the top: lowest id wins
        Sampler greedy(plain(0.0f), n);
        const int32_t want = greedy.sample(logits.data());
        EXPECT_EQ(want, 17);
        for (float t : {0.01f, 0.7f, 1.0f, 5.0f, 1000.0f}) {
            SamplingParams p = plain(t);
            p.top_k = 1;
            Sampler s(p, n);
            for (int i = 0; i < 20; ++i) EXPECT_EQ(s.sample(logits.data()), want) << "t=" << t;
        }
    }
}

TEST(Sampler, SeededRunsAreReproducible) {
    const int n = 500;
    auto run = [&](uint64_t seed) {
        SamplingParams p;  // defaults: top_k 40, top_p 0.9, penalties on
        p.seed = seed;
        Sampler s(p, n);
        std::vector<int32_t> out;
        for (int step = 0; step < 200; ++step) {
            auto logits = random_logits(n, 1000 + step, 3.0f);
            const int32_t t = s.sample(logits.data());
            s.accept(t);
            out.push_back(t);
        }
        return out;
    };
    const auto a = run(42), b = run(42), c = run(43);
    EXPECT_EQ(a, b);
    EXPECT_NE(a, c);

    // reset() replays the same stream.
    SamplingParams p = plain(1.0f);
    p.seed = 7;
    Sampler s(p, n);
    auto logits = random_logits(n, 99, 1.0f);
    std::vector<int32_t> first, second;
    for (int i = 0; i < 50; ++i) first.push_back(s.sample(logits.data()));
    s.reset();
    for (int i = 0; i < 50; ++i) second.push_back(s.sample(logits.data()));
    EXPECT_EQ(first, second);
}

TEST(Sampler, GoldenSequenceForFixedSeed) {
    // Pins the RNG use and the draw: mt19937_64 is fully specified by the standard, so this
    // sequence must be the same on every platform and every run.
    const std::vector<float> logits = logits_of({0.1, 0.2, 0.3, 0.4});
    SamplingParams p = plain(1.0f);
    p.seed = 2024;
    Sampler s(p, 4);
    std::mt19937_64 rng(2024);
    for (int i = 0; i < 100; ++i) {
        const double u = double(rng() >> 11) * 0x1.0p-53;
        const int32_t want = u < 0.1 ? 0 : u < 0.3 ? 1 : u < 0.6 ? 2 : 3;
        // Stay clear of the boundaries, where float rounding of the probabilities decides.
        const bool near =
            std::fabs(u - 0.1) < 1e-5 || std::fabs(u - 0.3) < 1e-5 || std::fabs(u - 0.6) < 1e-5;
        const int32_t got = s.sample(logits.data());
        if (!near) {
            EXPECT_EQ(got, want) << "draw " << i;
        }
    }
}

void expect_frequencies(const std::vector<float>& logits, const SamplingParams& p,
                        const std::vector<double>& want) {
    const int n = (int)logits.size();
    Sampler s(p, n);
    const int draws = 200000;
    std::vector<int> count(n, 0);
    for (int i = 0; i < draws; ++i) ++count[s.sample(logits.data())];
    for (int i = 0; i < n; ++i) {
        // sd of a frequency <= sqrt(0.25 / 200000) ~ 0.0011; 0.006 is > 5 sd.
        EXPECT_NEAR(double(count[i]) / draws, want[i], 0.006) << "token " << i;
    }
}

std::vector<double> softmax_ref(const std::vector<float>& logits, double t) {
    std::vector<double> p(logits.size());
    double sum = 0;
    for (size_t i = 0; i < logits.size(); ++i) sum += p[i] = std::exp(logits[i] / t);
    for (double& x : p) x /= sum;
    return p;
}

TEST(Sampler, FrequenciesMatchSoftmax) {
    const std::vector<float> logits = {1.0f, 2.0f, 0.5f, 3.0f, -1.0f};
    expect_frequencies(logits, plain(1.0f), softmax_ref(logits, 1.0));
    expect_frequencies(logits, plain(0.5f), softmax_ref(logits, 0.5));
    expect_frequencies(logits, plain(2.0f), softmax_ref(logits, 2.0));
    // top_k = 3 renormalises over tokens 3, 1, 0.
    SamplingParams p = plain(1.0f);
    p.top_k = 3;
    auto want = softmax_ref({1.0f, 2.0f, -kInf, 3.0f, -kInf}, 1.0);
    expect_frequencies(logits, p, want);
}

TEST(Sampler, TopKKeepsTheKBest) {
    const int n = 150000;
    auto logits = random_logits(n, 5);
    SamplingParams p = plain(1.0f);
    p.top_k = 40;
    Sampler s(p, n);
    auto c = s.candidates(logits.data());
    std::vector<int32_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
        return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
    });
    ASSERT_EQ(c.size(), 40u);
    for (int i = 0; i < 40; ++i) EXPECT_EQ(c[i].id, order[i]);
    double sum = 0;
    for (auto& x : c) sum += x.p;
    EXPECT_NEAR(sum, 1.0, 1e-5);
}

// probabilities 0.5, 0.25, 0.15, 0.1 placed at ids 2, 0, 3, 1
const std::vector<float> kFour = logits_of({0.25, 0.1, 0.5, 0.15});

std::set<int32_t> kept(const SamplingParams& p, const std::vector<float>& logits) {
    Sampler s(p, (int)logits.size());
    return ids(s.candidates(logits.data()));
}

TEST(Sampler, TopPKeepsTheSmallestNucleus) {
    SamplingParams p = plain(1.0f);
    p.top_p = 0.3f;  // 0.5 reaches it
    EXPECT_EQ(kept(p, kFour), (std::set<int32_t>{2}));
    p.top_p = 0.7f;  // 0.5 + 0.25
    EXPECT_EQ(kept(p, kFour), (std::set<int32_t>{2, 0}));
    p.top_p = 0.8f;  // + 0.15
    EXPECT_EQ(kept(p, kFour), (std::set<int32_t>{2, 0, 3}));
    p.top_p = 0.95f;
    EXPECT_EQ(kept(p, kFour), (std::set<int32_t>{0, 1, 2, 3}));
    p.top_p = 0.0f;  // keeps the most likely token
    EXPECT_EQ(kept(p, kFour), (std::set<int32_t>{2}));
    // Probabilities are renormalised over what is kept, most likely first.
    p.top_p = 0.7f;
    Sampler s(p, 4);
    auto c = s.candidates(kFour.data());
    ASSERT_EQ(c.size(), 2u);
    EXPECT_EQ(c[0].id, 2);
    EXPECT_NEAR(c[0].p, 2.0 / 3.0, 1e-6);
    EXPECT_NEAR(c[1].p, 1.0 / 3.0, 1e-6);
}

TEST(Sampler, TopPOnLargeVocabMatchesFullSort) {
    // Without top_k the sampler sorts only as much as the nucleus needs; compare with a full sort.
    const int n = 150000;
    for (float top_p : {0.5f, 0.9f, 0.99f}) {
        auto logits = random_logits(n, 11, 3.0f);
        SamplingParams p = plain(1.0f);
        p.top_p = top_p;
        Sampler s(p, n);
        auto got = ids(s.candidates(logits.data()));

        float max = *std::max_element(logits.begin(), logits.end());
        std::vector<float> w(n);
        double sum = 0;
        for (int i = 0; i < n; ++i) sum += w[i] = std::exp(logits[i] - max);
        std::vector<int32_t> order(n);
        std::iota(order.begin(), order.end(), 0);
        std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
            return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
        });
        std::set<int32_t> want;
        double cum = 0;
        for (int32_t id : order) {
            want.insert(id);
            cum += w[id];
            if (cum >= double(top_p) * sum) break;
        }
        EXPECT_GT(want.size(), 256u);  // the walk had to grow its sorted prefix
        EXPECT_EQ(got, want) << "top_p=" << top_p;
    }
    // Equal logits: ties go to the lowest ids.
    std::vector<float> flat(10000, 0.0f);
    SamplingParams p = plain(1.0f);
    p.top_p = 0.5f;
    Sampler s(p, 10000);
    auto c = s.candidates(flat.data());
    ASSERT_EQ(c.size(), 5000u);
    EXPECT_EQ(ids(c), [] {
        std::set<int32_t> all;
        for (int i = 0; i < 5000; ++i) all.insert(i);
        return all;
    }());
}

TEST(Sampler, MinPKeepsTokensAboveFractionOfMax) {
    SamplingParams p = plain(1.0f);
    p.min_p = 0.25f;  // threshold 0.125
    EXPECT_EQ(kept(p, kFour), (std::set<int32_t>{2, 0, 3}));
    p.min_p = 0.4f;  // threshold 0.2
    EXPECT_EQ(kept(p, kFour), (std::set<int32_t>{2, 0}));
    p.min_p = 0.1f;  // threshold 0.05
    EXPECT_EQ(kept(p, kFour), (std::set<int32_t>{0, 1, 2, 3}));
    p.min_p = 1.0f;
    EXPECT_EQ(kept(p, kFour), (std::set<int32_t>{2}));
}

TEST(Sampler, TypicalKeepsTokensClosestToTheEntropy) {
    // p = 0.5, 0.25, 0.15, 0.1: entropy 1.208 nats; surprises 0.693, 1.386, 1.897, 2.303;
    // distances 0.515, 0.178, 0.689, 1.095 -> order 0.25, 0.5, 0.15, 0.1 (ids 0, 2, 3, 1).
    SamplingParams p = plain(1.0f);
    p.typical_p = 0.2f;
    EXPECT_EQ(kept(p, kFour), (std::set<int32_t>{0}));  // drops the most likely token
    p.typical_p = 0.6f;
    EXPECT_EQ(kept(p, kFour), (std::set<int32_t>{0, 2}));
    p.typical_p = 0.8f;
    EXPECT_EQ(kept(p, kFour), (std::set<int32_t>{0, 2, 3}));
    p.typical_p = 0.95f;
    EXPECT_EQ(kept(p, kFour), (std::set<int32_t>{0, 1, 2, 3}));
}

TEST(Sampler, ChainOrderTopKBeforeTopP) {
    // top_k = 3 leaves 0.5, 0.25, 0.15 -> renormalised 0.556, 0.278, 0.167; top_p 0.8 then
    // keeps two (0.833), where on the full distribution it would keep three.
    SamplingParams p = plain(1.0f);
    p.top_k = 3;
    p.top_p = 0.8f;
    EXPECT_EQ(kept(p, kFour), (std::set<int32_t>{2, 0}));
}

TEST(Sampler, TemperatureAppliesAfterFilters) {
    // min_p sees temperature-1 probabilities, so a high temperature does not change the set.
    SamplingParams p = plain(100.0f);
    p.min_p = 0.4f;
    Sampler s(p, 4);
    auto c = s.candidates(kFour.data());
    EXPECT_EQ(ids(c), (std::set<int32_t>{2, 0}));
    EXPECT_NEAR(c[0].p, 0.5, 0.01);  // nearly flat after temperature 100
}

TEST(Sampler, PenaltiesChangeExactlyTheTokensInTheWindow) {
    const std::vector<float> logits = {3.0f, -2.0f, 1.0f, 0.5f, -1.0f, 2.0f};
    SamplingParams p = plain(1.0f);
    p.repeat_penalty = 2.0f;
    p.repeat_last_n = 4;
    p.presence_penalty = 0.25f;
    p.frequency_penalty = 0.5f;
    Sampler s(p, 6);
    for (int32_t t : {0, 3, 1, 1, 4}) s.accept(t);  // window: 3, 1, 1, 4 (0 slid out)
    auto got = logit_by_id(s.candidates(logits.data()));
    EXPECT_FLOAT_EQ(got[0], 3.0f);                          // outside the window
    EXPECT_FLOAT_EQ(got[1], -2.0f * 2 - 2 * 0.5f - 0.25f);  // twice, negative: multiplied
    EXPECT_FLOAT_EQ(got[2], 1.0f);
    EXPECT_FLOAT_EQ(got[3], 0.5f / 2 - 0.5f - 0.25f);  // once, positive: divided
    EXPECT_FLOAT_EQ(got[4], -1.0f * 2 - 0.5f - 0.25f);
    EXPECT_FLOAT_EQ(got[5], 2.0f);

    // Penalties decide greedy too; the history is not consumed by sampling.
    p.temperature = 0;
    Sampler g(p, 6);
    g.accept(0);
    EXPECT_EQ(g.sample(logits.data()), 5);  // 3 / 2 - 0.75 = 0.75 < 2
    EXPECT_EQ(g.sample(logits.data()), 5);
    g.reset();  // history cleared
    EXPECT_EQ(g.sample(logits.data()), 0);
}

TEST(Sampler, RepeatLastNOffAndWholeHistory) {
    const std::vector<float> logits = {3.0f, 1.0f, 1.0f};
    SamplingParams p = plain(1.0f);
    p.repeat_penalty = 2.0f;
    p.repeat_last_n = 0;
    Sampler off(p, 3);
    off.accept(0);
    EXPECT_FLOAT_EQ(logit_by_id(off.candidates(logits.data()))[0], 3.0f);

    p.repeat_last_n = -1;
    Sampler all(p, 3);
    all.accept(0);
    for (int i = 0; i < 1000; ++i) all.accept(1);
    auto got = logit_by_id(all.candidates(logits.data()));
    EXPECT_FLOAT_EQ(got[0], 1.5f);  // 1000 tokens ago, still penalised
    EXPECT_FLOAT_EQ(got[1], 0.5f);
    EXPECT_FLOAT_EQ(got[2], 1.0f);

    // Out-of-vocabulary ids in the history are ignored.
    Sampler odd(p, 3);
    odd.accept(-5);
    odd.accept(99);
    EXPECT_FLOAT_EQ(logit_by_id(odd.candidates(logits.data()))[0], 3.0f);
}

TEST(Sampler, LogitBias) {
    const std::vector<float> logits = {3.0f, 1.0f, 2.0f};
    SamplingParams p = plain(0.0f);
    p.logit_bias = {{0, -kInf}};
    EXPECT_EQ(Sampler(p, 3).sample(logits.data()), 2);
    p.logit_bias = {{1, 5.0f}};
    EXPECT_EQ(Sampler(p, 3).sample(logits.data()), 1);

    // A banned token is never sampled at any temperature.
    p = plain(5.0f);
    p.logit_bias = {{0, -kInf}};
    Sampler s(p, 3);
    for (int i = 0; i < 2000; ++i) ASSERT_NE(s.sample(logits.data()), 0);

    p.logit_bias = {{0, -kInf}, {1, -kInf}, {2, -kInf}};
    Sampler none(p, 3);
    EXPECT_THROW(none.sample(logits.data()), Error);
}

TEST(Sampler, NonFiniteLogits) {
    std::vector<float> logits = {kNaN, 1.0f, -kInf, 0.5f};
    Sampler s(plain(1.0f), 4);
    for (int i = 0; i < 500; ++i) {
        const int32_t t = s.sample(logits.data());
        ASSERT_TRUE(t == 1 || t == 3);
    }
    logits = {1.0f, kInf, 2.0f, kInf};
    Sampler g(plain(1.0f), 4);
    EXPECT_EQ(g.candidates(logits.data())[0].id, 1);
    logits = {kNaN, kNaN, -kInf, kNaN};
    EXPECT_THROW(s.sample(logits.data()), Error);
}

TEST(Sampler, RejectsUnusableParams) {
    auto bad = [](auto edit, int n_vocab = 10) {
        SamplingParams p;
        edit(p);
        EXPECT_THROW(Sampler(p, n_vocab), Error);
    };
    bad([](SamplingParams& p) { p.temperature = kNaN; });
    bad([](SamplingParams& p) { p.top_p = kNaN; });
    bad([](SamplingParams& p) { p.repeat_penalty = 0.0f; });
    bad([](SamplingParams& p) { p.repeat_last_n = -2; });
    bad([](SamplingParams& p) { p.logit_bias[10] = 1.0f; });
    bad([](SamplingParams& p) { p.logit_bias[-1] = 1.0f; });
    bad([](SamplingParams& p) { p.logit_bias[3] = kInf; });
    bad([](SamplingParams&) {}, 0);
    // Out-of-range but meaningful values are accepted.
    SamplingParams p;
    p.top_k = -1;
    p.top_p = 5.0f;
    p.min_p = -1.0f;
    EXPECT_NO_THROW(Sampler(p, 10));
}

}  // namespace
}  // namespace lokal::sampling
