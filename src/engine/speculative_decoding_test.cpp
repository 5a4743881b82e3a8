// Speculative decoding through the batch scheduler: the answer (tokens, text, logprobs, stop
// reason) is the same with guesses as without, greedy or sampled, alone or beside others.
#include <gtest/gtest.h>

#include <future>
#include <limits>

#include "base/error.h"
#include "base/test_support.h"
#include "engine/batch_scheduler.h"
#include "kernels/cpu/forced_isa_environment.h"
#include "tokenizer/tokenizer.h"

namespace lokal::engine {
namespace {

struct Answer {
    std::string text;
    std::vector<TokenLogprob> logprobs;  // of each chosen token
    SequenceResult result;
};

class SpeculativeDecodingTest : public ::testing::Test {
  protected:
    void SetUp() override {
        LOKAL_REQUIRE_TESTDATA("models/stories260K.gguf");
        model_ = model::Model::load(testing::testdata_path("models/stories260K.gguf"));
    }

    std::shared_ptr<SequenceRequest> request(const std::string& text, int max_tokens, int draft_max,
                                             const std::shared_ptr<Answer>& out,
                                             const std::shared_ptr<std::promise<void>>& done) {
        auto r = std::make_shared<SequenceRequest>();
        r->prompt = model_->tokenizer().encode(text, true, false);
        r->sampling.temperature = 0;
        r->sampling.repeat_penalty = 1.0f;
        r->options.max_tokens = max_tokens;
        r->draft_max = draft_max;
        r->n_probs = 0;
        r->on_token = [out](const TokenEvent& ev) {
            out->text += ev.text;
            if (ev.token >= 0) out->logprobs.push_back({ev.token, ev.logprob});
            return true;
        };
        r->on_done = [out, done](const SequenceResult& res) {
            out->result = res;
            done->set_value();
        };
        return r;
    }

    // Runs the requests together on a fresh scheduler and waits for all of them.
    std::vector<std::shared_ptr<Answer>> run(
        const std::vector<std::function<void(SequenceRequest&)>>& setups, const std::string& text,
        int max_tokens, int draft_max, int n_parallel = 2) {
        SchedulerParams p;
        p.n_parallel = n_parallel;
        p.n_ctx = 512;
        p.n_batch = 64;
        BatchScheduler sched(*model_, p);
        std::vector<std::shared_ptr<Answer>> outs;
        std::vector<std::future<void>> waits;
        for (const auto& setup : setups) {
            auto out = std::make_shared<Answer>();
            auto done = std::make_shared<std::promise<void>>();
            waits.push_back(done->get_future());
            auto r = request(text, max_tokens, draft_max, out, done);
            setup(*r);
            EXPECT_TRUE(sched.submit(r));
            outs.push_back(out);
        }
        for (auto& w : waits) w.wait();
        last_stats_ = sched.stats();
        return outs;
    }

    static void expect_same(const Answer& with, const Answer& without) {
        EXPECT_EQ(with.text, without.text);
        EXPECT_EQ(with.result.stats.tokens, without.result.stats.tokens);
        EXPECT_EQ(with.result.stats.reason, without.result.stats.reason);
        EXPECT_EQ(with.result.stop_string, without.result.stop_string);
        ASSERT_EQ(with.logprobs.size(), without.logprobs.size());
        for (size_t i = 0; i < with.logprobs.size(); ++i) {
            // Bit for bit: the logits of a guessed row are those of evaluating it alone.
            EXPECT_EQ(with.logprobs[i].logprob, without.logprobs[i].logprob) << i;
        }
    }

    // stories260K repeats itself, so prompt lookup has something to find.
    const std::string story_ =
        "Once upon a time, there was a little girl named Lily. She loved to play outside. "
        "One day, Lily saw a big dog. Once upon a time, there was a little girl named Lily.";
    std::unique_ptr<model::Model> model_;
    SchedulerStats last_stats_;
};

TEST_F(SpeculativeDecodingTest, GreedyAnswerIsTheSameAndGuessesAreKept) {
    const auto none = [](SequenceRequest&) {};
    auto without = run({none}, story_, 120, 0);
    EXPECT_EQ(last_stats_.draft_tokens, 0u);
    auto with = run({none}, story_, 120, 16);
    expect_same(*with[0], *without[0]);
    EXPECT_GT(last_stats_.draft_tokens, 0u);
    EXPECT_GT(last_stats_.draft_accepted, 0u);
    EXPECT_EQ((uint64_t)with[0]->result.stats.draft_tokens, last_stats_.draft_tokens);
    EXPECT_EQ((uint64_t)with[0]->result.stats.draft_accepted, last_stats_.draft_accepted);
    EXPECT_LE(last_stats_.draft_accepted, last_stats_.draft_tokens);
}

// With the same seed the sampler draws the same numbers in the same order, so a sampled answer
// is the same too, token for token: a stronger property than an unchanged distribution.
TEST_F(SpeculativeDecodingTest, SampledAnswerIsTheSameForEverySeed) {
    uint64_t kept = 0;
    for (uint64_t seed = 1; seed <= 12; ++seed) {
        const auto sampled = [seed](SequenceRequest& r) {
            r.sampling.temperature = 0.7f;
            r.sampling.top_k = 20;
            r.sampling.seed = seed;
        };
        auto without = run({sampled}, story_, 60, 0);
        auto with = run({sampled}, story_, 60, 16);
        expect_same(*with[0], *without[0]);
        kept += last_stats_.draft_accepted;
    }
    EXPECT_GT(kept, 0u);
}

// Several sequences guess at once, beside a sequence still evaluating its prompt; stop strings
// and token budgets end them where they would end without guesses.
TEST_F(SpeculativeDecodingTest, ConcurrentSequencesWithStopsAndBudgets) {
    const std::vector<std::function<void(SequenceRequest&)>> setups = {
        [](SequenceRequest&) {},
        [](SequenceRequest& r) { r.options.stop = {"Lily saw"}; },
        [](SequenceRequest& r) { r.options.max_tokens = 7; },
        [](SequenceRequest& r) {
            r.sampling.temperature = 0.9f;
            r.sampling.seed = 42;
        },
    };
    auto without = run(setups, story_, 80, 0, 3);
    auto with = run(setups, story_, 80, 16, 3);
    for (size_t i = 0; i < setups.size(); ++i) {
        SCOPED_TRACE(i);
        expect_same(*with[i], *without[i]);
    }
    EXPECT_GT(last_stats_.draft_accepted, 0u);
}

// Rejected guesses leave the KV cache: the next turn, reusing this one's rows from the prefix
// cache, continues exactly as a scheduler that never guessed.
TEST_F(SpeculativeDecodingTest, RejectedGuessesLeaveNoTraceInTheCache) {
    SchedulerParams p;
    p.n_parallel = 1;
    p.n_ctx = 512;
    auto two_turns = [&](int draft_max) {
        BatchScheduler sched(*model_, p);
        std::vector<std::shared_ptr<Answer>> outs;
        std::string text = story_;
        for (int turn = 0; turn < 2; ++turn) {
            auto out = std::make_shared<Answer>();
            auto done = std::make_shared<std::promise<void>>();
            auto fut = done->get_future();
            EXPECT_TRUE(sched.submit(request(text, 50, draft_max, out, done)));
            fut.wait();
            outs.push_back(out);
            text += out->text + " The dog";
        }
        last_stats_ = sched.stats();
        return outs;
    };
    auto without = two_turns(0);
    auto with = two_turns(16);
    EXPECT_GT(last_stats_.draft_tokens, last_stats_.draft_accepted);  // some were rejected
    EXPECT_GT(with[1]->result.cached_tokens, 0);
    EXPECT_EQ(with[1]->result.cached_tokens, without[1]->result.cached_tokens);
    expect_same(*with[0], *without[0]);
    expect_same(*with[1], *without[1]);
}

// Rollback at the level of the context: rows evaluated and then truncated change nothing that
// is computed after them.
TEST_F(SpeculativeDecodingTest, TruncatedRowsDoNotChangeLaterLogits) {
    const std::vector<int32_t> prompt = model_->tokenizer().encode(story_, true, false);
    model::ContextParams cp;
    cp.n_ctx = 256;
    model::Context guessed(*model_, cp), plain(*model_, cp);
    guessed.eval(prompt);
    plain.eval(prompt);
    const std::vector<model::BatchToken> batch = {{17, 0, true}, {5, 0, true}, {99, 0, true}};
    ASSERT_TRUE(guessed.decode(batch));
    guessed.seq_truncate(0, (int)prompt.size() + 1);  // keep 17, reject 5 and 99
    plain.eval(std::vector<int32_t>{17});
    const std::vector<int32_t> next = {42, 7};
    guessed.eval(next, true);
    plain.eval(next, true);
    for (int i = 0; i < 2; ++i) {
        for (int v = 0; v < plain.n_vocab(); ++v) {
            ASSERT_EQ(guessed.logits(i)[v], plain.logits(i)[v]) << i << " " << v;
        }
    }
}

// Two greedy answers (the prompt, and the prompt less its last token) from target, guessed by
// draft_model (null: no speculation) with sampling's bias and penalties.
std::vector<std::vector<int32_t>> draft_answers(const model::Model& target,
                                                const model::Model* draft_model,
                                                const sampling::SamplingParams& sampling,
                                                SchedulerStats* stats) {
    const std::vector<int32_t> prompt =
        target.tokenizer().encode("Once upon a time there was a big red ball", true, false);
    SchedulerParams p;
    p.n_parallel = 2;
    p.n_ctx = 256;
    p.draft_max = draft_model ? 8 : 0;
    p.draft_model = draft_model;
    BatchScheduler sched(target, p);
    std::vector<std::vector<int32_t>> tokens(2);
    std::vector<std::promise<void>> done(2);
    for (int i = 0; i < 2; ++i) {
        auto r = std::make_shared<SequenceRequest>();
        r->prompt = prompt;
        r->prompt.resize(prompt.size() - (size_t)i);
        r->sampling = sampling;
        r->sampling.temperature = 0;
        r->options.max_tokens = 40;
        r->on_token = [](const TokenEvent&) { return true; };
        r->on_done = [&tokens, &done, i](const SequenceResult& res) {
            tokens[i] = res.stats.tokens;
            done[i].set_value();
        };
        EXPECT_TRUE(sched.submit(r));
    }
    for (auto& d : done) d.get_future().wait();
    *stats = sched.stats();
    return tokens;
}

// A draft model: the same weights in another quantization guess well but not perfectly; the
// answer is the target's either way, and the draft's vocabulary is checked.
TEST(DraftModelTest, GuessesFromASmallerModelKeepTheAnswer) {
    LOKAL_REQUIRE_TESTDATA("models/tiny-llama-h64-f32.gguf");
    LOKAL_REQUIRE_TESTDATA("models/tiny-llama-h64-q4_0.gguf");
    const auto target =
        model::Model::load(testing::testdata_path("models/tiny-llama-h64-f32.gguf"));
    const auto draft =
        model::Model::load(testing::testdata_path("models/tiny-llama-h64-q4_0.gguf"));
    sampling::SamplingParams plain_argmax;
    plain_argmax.repeat_penalty = 1.0f;
    SchedulerStats plain{}, guessed{};
    const auto without = draft_answers(*target, nullptr, plain_argmax, &plain);
    EXPECT_EQ(draft_answers(*target, draft.get(), plain_argmax, &guessed), without);
    EXPECT_GT(guessed.draft_accepted, 0u);
    std::printf("q4_0 draft for the f32 model: %llu of %llu guesses kept\n",
                (unsigned long long)guessed.draft_accepted,
                (unsigned long long)guessed.draft_tokens);
    // Its own weights guess perfectly: every guess is kept.
    EXPECT_EQ(draft_answers(*target, target.get(), plain_argmax, &guessed), without);
    EXPECT_EQ(guessed.draft_accepted, guessed.draft_tokens);
    EXPECT_GT(guessed.draft_tokens, 0u);
}

// Under the request's penalties (and bias) the draft picks what the request's greedy sampler
// would from the same history: the answer is unchanged, and a draft with the target's own
// weights still has every guess kept, whatever the penalty window (shorter than a draft, the
// whole history, the default). Without the penalties in the draft, its guesses of repeated
// tokens are rejected.
TEST(DraftModelTest, PenalisedGuessesKeepTheAnswerAndItsOwnWeightsGuessPerfectly) {
    LOKAL_REQUIRE_TESTDATA("models/tiny-llama-h64-f32.gguf");
    LOKAL_REQUIRE_TESTDATA("models/tiny-llama-h64-q4_0.gguf");
    const auto target =
        model::Model::load(testing::testdata_path("models/tiny-llama-h64-f32.gguf"));
    const auto draft =
        model::Model::load(testing::testdata_path("models/tiny-llama-h64-q4_0.gguf"));
    sampling::SamplingParams penalised;
    penalised.repeat_penalty = 1.3f;
    penalised.presence_penalty = 0.5f;
    penalised.frequency_penalty = 0.5f;
    sampling::SamplingParams plain_argmax;
    plain_argmax.repeat_penalty = 1.0f;
    SchedulerStats stats{};
    const auto unpenalised = draft_answers(*target, nullptr, plain_argmax, &stats);
    for (int window : {64, 3, -1}) {
        SCOPED_TRACE("repeat_last_n " + std::to_string(window));
        penalised.repeat_last_n = window;
        const auto without = draft_answers(*target, nullptr, penalised, &stats);
        EXPECT_NE(without, unpenalised);  // the penalties change the answer, so they matter
        EXPECT_EQ(draft_answers(*target, draft.get(), penalised, &stats), without);
        EXPECT_GT(stats.draft_accepted, 0u);
        std::printf("q4_0 draft, penalties over %d tokens: %llu of %llu guesses kept\n", window,
                    (unsigned long long)stats.draft_accepted,
                    (unsigned long long)stats.draft_tokens);
        EXPECT_EQ(draft_answers(*target, target.get(), penalised, &stats), without);
        EXPECT_EQ(stats.draft_accepted, stats.draft_tokens);
        EXPECT_GT(stats.draft_tokens, 0u);
    }
    // A banned token is never guessed either (the bias applies before the penalties).
    const auto first = draft_answers(*target, nullptr, penalised, &stats);
    ASSERT_FALSE(first[0].empty());
    penalised.logit_bias[first[0][0]] = -std::numeric_limits<float>::infinity();
    const auto banned = draft_answers(*target, nullptr, penalised, &stats);
    EXPECT_NE(banned, first);
    EXPECT_EQ(draft_answers(*target, target.get(), penalised, &stats), banned);
    EXPECT_EQ(stats.draft_accepted, stats.draft_tokens);
}

TEST(DraftModelTest, ADifferentVocabularyIsRefusedByName) {
    LOKAL_REQUIRE_TESTDATA("models/stories260K.gguf");
    LOKAL_REQUIRE_TESTDATA("models/tiny-gemma3-q4_k_m.gguf");
    const auto target = model::Model::load(testing::testdata_path("models/stories260K.gguf"));
    const auto other = model::Model::load(testing::testdata_path("models/tiny-gemma3-q4_k_m.gguf"));
    try {
        check_draft_vocabulary(*target, *other);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("must share the model's vocabulary"),
                  std::string::npos)
            << e.what();
    }
    SchedulerParams p;
    p.draft_model = other.get();
    EXPECT_THROW(BatchScheduler(*target, p), Error);
    EXPECT_NO_THROW(check_draft_vocabulary(*target, *target));
}

// Greedy answers with and without guesses on every shared model, each beside a second sequence
// so guesses share forward passes with other work. Besides prompt lookup (which random-weight
// models rarely give anything to find), a source that guesses the true answer with every fifth
// token wrong makes each model keep some guesses and reject others.
class EveryModel : public ::testing::TestWithParam<const char*> {};

TEST_P(EveryModel, GreedyAnswerIsTheSameWithSpeculation) {
    const std::string rel = std::string("models/") + GetParam();
    LOKAL_REQUIRE_TESTDATA(rel);
    const auto model = model::Model::load(testing::testdata_path(rel));
    const std::string text =
        "The quick brown fox jumps over the lazy dog. The quick brown fox jumps over the lazy "
        "dog. The quick brown fox";
    std::vector<std::vector<int32_t>> prompts(2, model->tokenizer().encode(text, true, false));
    prompts[1].resize(prompts[1].size() - 3);
    auto answer = [&](int draft_max, const std::vector<DraftSource>& sources,
                      SchedulerStats* stats) {
        SchedulerParams p;
        p.n_parallel = 2;
        p.n_ctx = 256;
        p.n_batch = 32;
        BatchScheduler sched(*model, p);
        std::vector<std::vector<int32_t>> tokens(2);
        std::vector<std::promise<void>> done(2);
        for (int i = 0; i < 2; ++i) {
            auto r = std::make_shared<SequenceRequest>();
            r->prompt = prompts[i];
            r->sampling.temperature = 0;
            r->options.max_tokens = 48;
            r->draft_max = draft_max;
            if (!sources.empty()) r->draft_source = sources[i];
            r->on_token = [](const TokenEvent&) { return true; };
            r->on_done = [&tokens, &done, i](const SequenceResult& res) {
                tokens[i] = res.stats.tokens;
                done[i].set_value();
            };
            EXPECT_TRUE(sched.submit(r));
        }
        for (auto& d : done) d.get_future().wait();
        *stats = sched.stats();
        return tokens;
    };
    SchedulerStats plain{}, lookup{}, near{};
    const auto without = answer(0, {}, &plain);
    EXPECT_EQ(answer(16, {}, &lookup), without);

    std::vector<DraftSource> near_misses;
    near_misses.reserve(2);
    for (int i = 0; i < 2; ++i) {
        near_misses.push_back([&, i](std::span<const int32_t> history, int max_tokens) {
            // history ends with the answer's token n - 1 (pending); guess from token n on.
            const size_t n = history.size() - prompts[i].size();
            std::vector<int32_t> guess;
            for (size_t j = n; j < without[i].size() && (int)guess.size() < max_tokens; ++j) {
                guess.push_back(j % 5 == 4 ? (without[i][j] + 1) % model->config().n_vocab
                                           : without[i][j]);
            }
            return guess;
        });
    }
    EXPECT_EQ(answer(16, near_misses, &near), without);
    EXPECT_GT(near.draft_accepted, 0u);
    EXPECT_GT(near.draft_tokens, near.draft_accepted);
    std::printf("%s: prompt lookup kept %llu of %llu guesses\n", GetParam(),
                (unsigned long long)lookup.draft_accepted, (unsigned long long)lookup.draft_tokens);
}

INSTANTIATE_TEST_SUITE_P(SharedModels, EveryModel,
                         ::testing::Values("stories260K.gguf", "llama-2-tiny-random.gguf",
                                           "tiny-gemma2-q4_k_m.gguf", "tiny-gemma3-q4_k_m.gguf",
                                           "tiny-llama-h64-f32.gguf", "tiny-llama-h64-q4_0.gguf",
                                           "tiny-llama-h64-q4_k_m.gguf", "tiny-llama-h64-q8_0.gguf",
                                           "tiny-llama-q4_k_m.gguf", "tiny-mistral-q4_k_m.gguf",
                                           "tiny-phi3-q4_k_m.gguf", "tiny-qwen2s-q4_k_m.gguf"),
                         [](const ::testing::TestParamInfo<const char*>& param) {
                             std::string name = param.param;
                             name = name.substr(0, name.find(".gguf"));
                             for (char& c : name) {
                                 if (!std::isalnum((unsigned char)c)) c = '_';
                             }
                             return name;
                         });

}  // namespace
}  // namespace lokal::engine
