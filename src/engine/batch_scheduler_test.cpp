#include "engine/batch_scheduler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <future>

#include "base/error.h"
#include "base/test_support.h"
#include "tokenizer/stream_decoder.h"
#include "tokenizer/tokenizer.h"

namespace lokal::engine {
namespace {

struct Outcome {
    std::string text;
    SequenceResult result;
};

// Runs requests through the scheduler and waits for all of them.
class BatchSchedulerTest : public ::testing::Test {
  protected:
    void SetUp() override {
        LOKAL_REQUIRE_TESTDATA("models/stories260K.gguf");
        model_ = model::Model::load(testing::testdata_path("models/stories260K.gguf"));
    }

    std::vector<int32_t> prompt(const std::string& text) const {
        return model_->tokenizer().encode(text, true, false);
    }

    std::shared_ptr<SequenceRequest> request(
        const std::string& text, int max_tokens, const std::shared_ptr<Outcome>& out,
        const std::shared_ptr<std::promise<void>>& done) const {
        auto r = std::make_shared<SequenceRequest>();
        r->prompt = prompt(text);
        r->sampling.temperature = 0;
        r->sampling.repeat_penalty = 1.0f;
        r->options.max_tokens = max_tokens;
        r->on_token = [out](const TokenEvent& ev) {
            out->text += ev.text;
            return true;
        };
        r->on_done = [out, done](const SequenceResult& res) {
            out->result = res;
            done->set_value();
        };
        return r;
    }

    // The oracle: the greedy continuation of one sequence alone on a plain Context.
    std::string alone(const std::string& text, int max_tokens) const {
        model::ContextParams cp;
        cp.n_ctx = 256;
        model::Context ctx(*model_, cp);
        ctx.eval(prompt(text));
        std::vector<int32_t> answer;
        for (int i = 0; i < max_tokens; ++i) {
            const float* logits = ctx.logits();
            const int32_t t = (int32_t)(std::max_element(logits, logits + ctx.n_vocab()) - logits);
            answer.push_back(t);
            if (i + 1 < max_tokens) ctx.eval(std::span<const int32_t>(&t, 1));
        }
        tokenizer::StreamDecoder pieces(model_->tokenizer());
        std::string out;
        for (int32_t t : answer) out += pieces.push(t);
        return out + pieces.flush();
    }

    std::unique_ptr<model::Model> model_;
};

TEST_F(BatchSchedulerTest, ConcurrentRequestsMatchTheirTextAlone) {
    const std::vector<std::string> prompts = {"Once upon a time",    "The cat sat",
                                              "Lily wanted to play", "One day, a big dog",
                                              "Tom and Sue went",    "The sun was"};
    SchedulerParams p;
    p.n_parallel = 3;  // more requests than slots: some wait in the queue
    p.n_ctx = 256;
    p.n_batch = 16;  // prompts are evaluated in chunks mixed with other sequences' tokens
    BatchScheduler sched(*model_, p);
    std::vector<std::shared_ptr<Outcome>> outs;
    std::vector<std::future<void>> waits;
    for (const auto& text : prompts) {
        auto out = std::make_shared<Outcome>();
        auto done = std::make_shared<std::promise<void>>();
        waits.push_back(done->get_future());
        ASSERT_TRUE(sched.submit(request(text, 40, out, done)));
        outs.push_back(out);
    }
    for (auto& w : waits) w.wait();
    for (size_t i = 0; i < prompts.size(); ++i) {
        EXPECT_EQ(outs[i]->text, alone(prompts[i], 40)) << prompts[i];
        EXPECT_EQ(outs[i]->result.stats.generated_tokens, 40);
        EXPECT_EQ(outs[i]->result.stats.reason, StopReason::MaxTokens);
        EXPECT_TRUE(outs[i]->result.error.empty());
    }
    EXPECT_EQ(sched.stats().running, 0);
    EXPECT_EQ(sched.stats().generated_tokens, 40u * prompts.size());
}

// The cache type reaches the scheduler's context: stories260K's heads (8 wide) cannot be stored
// as Q8_0 blocks of 32, and the context says so.
TEST_F(BatchSchedulerTest, UsesTheRequestedKvCacheType) {
    SchedulerParams p;
    p.n_ctx = 64;
    p.kv_type = kernels::KvType::Q8_0;
    EXPECT_THROW(BatchScheduler(*model_, p), Error);
    p.kv_type = kernels::KvType::F32;
    EXPECT_NO_THROW(BatchScheduler(*model_, p));
}

TEST_F(BatchSchedulerTest, NextTurnReusesTheCachedPrefix) {
    SchedulerParams p;
    p.n_parallel = 2;
    p.n_ctx = 256;
    BatchScheduler sched(*model_, p);
    auto run = [&](const std::string& text) {
        auto out = std::make_shared<Outcome>();
        auto done = std::make_shared<std::promise<void>>();
        auto fut = done->get_future();
        EXPECT_TRUE(sched.submit(request(text, 20, out, done)));
        fut.wait();
        return out;
    };
    const std::string first = "Once upon a time there was a little girl named Lily.";
    auto a = run(first);
    EXPECT_EQ(a->result.cached_tokens, 0);
    // The next turn repeats the conversation so far and adds to it.
    const std::string second = first + a->text + " She said hello.";
    auto b = run(second);
    const int n_prompt = (int)prompt(second).size();
    EXPECT_GE(b->result.cached_tokens, (int)prompt(first).size());
    EXPECT_EQ(b->result.cached_tokens + b->result.stats.prompt_tokens, n_prompt);
    EXPECT_EQ(b->text, alone(second, 20));
}

// A constraint that allows only even token ids (and end of generation), with and without the
// one-token check: greedy picks the same tokens, and the mask is computed only on rejections.
TEST_F(BatchSchedulerTest, ConstrainedSamplingChecksTheFreeChoiceFirst) {
    SchedulerParams p;
    p.n_parallel = 2;
    p.n_ctx = 256;
    BatchScheduler sched(*model_, p);
    const int32_t eos = model_->tokenizer().eos();
    auto allowed = [eos](int32_t t) { return t % 2 == 0 || t == eos; };
    auto run = [&](bool check_first, int* masks) {
        auto out = std::make_shared<Outcome>();
        auto done = std::make_shared<std::promise<void>>();
        auto fut = done->get_future();
        auto r = request("Once upon a time", 30, out, done);
        r->constrain = [masks, allowed](float* logits, int n_vocab) {
            ++*masks;
            for (int t = 0; t < n_vocab; ++t) {
                if (!allowed(t)) logits[t] = -INFINITY;
            }
        };
        if (check_first) r->allows = allowed;
        EXPECT_TRUE(sched.submit(r));
        fut.wait();
        return out;
    };
    int masks_always = 0, masks_checked = 0;
    auto a = run(false, &masks_always);
    auto b = run(true, &masks_checked);
    ASSERT_FALSE(a->result.stats.tokens.empty());
    EXPECT_EQ(a->result.stats.tokens, b->result.stats.tokens);
    for (int32_t t : b->result.stats.tokens) EXPECT_TRUE(allowed(t)) << t;
    EXPECT_EQ(masks_always, a->result.stats.generated_tokens +
                                (a->result.stats.reason == StopReason::EndOfGeneration ? 1 : 0));
    EXPECT_LT(masks_checked, masks_always);
}

TEST_F(BatchSchedulerTest, CancelStopsASequence) {
    SchedulerParams p;
    p.n_parallel = 1;
    p.n_ctx = 256;
    BatchScheduler sched(*model_, p);
    auto out = std::make_shared<Outcome>();
    auto done = std::make_shared<std::promise<void>>();
    auto fut = done->get_future();
    auto r = request("Once upon a time", -1, out, done);
    int seen = 0;
    r->on_token = [&seen](const TokenEvent&) { return ++seen < 5; };
    ASSERT_TRUE(sched.submit(r));
    fut.wait();
    EXPECT_EQ(out->result.stats.reason, StopReason::Cancelled);
    EXPECT_EQ(seen, 5);
    EXPECT_EQ(sched.stats().running, 0);
}

TEST_F(BatchSchedulerTest, RefusesWhatCanNeverRun) {
    SchedulerParams p;
    p.n_parallel = 1;
    p.n_ctx = 32;
    p.max_queue = 1;
    BatchScheduler sched(*model_, p);
    auto out = std::make_shared<Outcome>();
    auto done = std::make_shared<std::promise<void>>();
    std::string long_text;
    for (int i = 0; i < 40; ++i) long_text += "the cat sat ";
    EXPECT_THROW(sched.submit(request(long_text, 5, out, done)), Error);
    auto empty = request("x", 5, out, done);
    empty->prompt.clear();
    EXPECT_THROW(sched.submit(empty), Error);
    auto bad = request("x", 5, out, done);
    bad->sampling.repeat_penalty = -1;
    EXPECT_THROW(sched.submit(bad), Error);
}

// A request for more context than the scheduler was made with gets it (Ollama's num_ctx): the
// scheduler makes a larger Context once what runs has finished, and keeps it. Beyond the
// model's training context the request is clamped to it.
TEST_F(BatchSchedulerTest, GrowsTheContextForALargerRequest) {
    SchedulerParams p;
    p.n_parallel = 1;
    p.n_ctx = 32;
    BatchScheduler sched(*model_, p);
    ASSERT_EQ(sched.n_ctx(), 32);
    std::string long_text = "Once upon a time";
    for (int i = 0; i < 12; ++i) long_text += " the cat sat";
    ASSERT_GT(prompt(long_text).size(), 40u);
    ASSERT_LT(prompt(long_text).size(), 100u);
    auto out = std::make_shared<Outcome>();
    auto done = std::make_shared<std::promise<void>>();
    EXPECT_THROW(sched.submit(request(long_text, 5, out, done)), Error);  // 32 holds it not

    // One request runs in the small context while the larger one waits behind it.
    auto first = std::make_shared<Outcome>();
    auto first_done = std::make_shared<std::promise<void>>();
    auto first_fut = first_done->get_future();
    ASSERT_TRUE(sched.submit(request("Once upon a time", 10, first, first_done)));
    auto big = request(long_text, 5, out, done);
    big->n_ctx = 128;
    auto fut = done->get_future();
    ASSERT_TRUE(sched.submit(big));
    first_fut.wait();
    fut.wait();
    EXPECT_TRUE(first->result.error.empty()) << first->result.error;
    EXPECT_EQ(first->text, alone("Once upon a time", 10));
    EXPECT_TRUE(out->result.error.empty()) << out->result.error;
    EXPECT_EQ(out->result.stats.generated_tokens, 5);
    EXPECT_EQ(out->text, alone(long_text, 5));
    EXPECT_EQ(sched.n_ctx(), 128);
    EXPECT_EQ(sched.context_for(0), 128);  // the grown context is everyone's from now on

    const int n_ctx_train = model_->config().n_ctx_train;
    EXPECT_EQ(sched.context_for(1 << 20), n_ctx_train);
    auto huge_out = std::make_shared<Outcome>();
    auto huge_done = std::make_shared<std::promise<void>>();
    auto huge = request(long_text, 3, huge_out, huge_done);
    huge->n_ctx = 1 << 20;
    auto huge_fut = huge_done->get_future();
    ASSERT_TRUE(sched.submit(huge));
    huge_fut.wait();
    EXPECT_TRUE(huge_out->result.error.empty()) << huge_out->result.error;
    EXPECT_EQ(sched.n_ctx(), n_ctx_train);
}

TEST_F(BatchSchedulerTest, ShutdownCancelsQueuedAndRunning) {
    SchedulerParams p;
    p.n_parallel = 1;
    p.n_ctx = 256;
    auto sched = std::make_unique<BatchScheduler>(*model_, p);
    std::vector<std::shared_ptr<Outcome>> outs;
    std::vector<std::future<void>> waits;
    for (int i = 0; i < 3; ++i) {
        auto out = std::make_shared<Outcome>();
        auto done = std::make_shared<std::promise<void>>();
        waits.push_back(done->get_future());
        ASSERT_TRUE(sched->submit(request("Once upon a time", -1, out, done)));
        outs.push_back(out);
    }
    sched.reset();  // every request still ends with on_done
    for (auto& w : waits) w.wait();
    int cancelled = 0;
    for (auto& o : outs) cancelled += o->result.stats.reason == StopReason::Cancelled;
    EXPECT_GE(cancelled, 1);
}

TEST_F(BatchSchedulerTest, LogprobsAreANormalisedDistribution) {
    SchedulerParams p;
    p.n_parallel = 1;
    p.n_ctx = 128;
    BatchScheduler sched(*model_, p);
    auto out = std::make_shared<Outcome>();
    auto done = std::make_shared<std::promise<void>>();
    auto fut = done->get_future();
    auto r = request("Once upon a time", 3, out, done);
    r->n_probs = 3;
    std::vector<TokenEvent> events;
    r->on_token = [&events](const TokenEvent& ev) {
        if (ev.token >= 0) events.push_back({std::string_view{}, ev.token, ev.logprob, ev.top});
        return true;
    };
    ASSERT_TRUE(sched.submit(r));
    fut.wait();
    ASSERT_EQ(events.size(), 3u);
    for (const auto& ev : events) {
        ASSERT_EQ(ev.top.size(), 3u);
        EXPECT_EQ(ev.top[0].token, ev.token);  // greedy picks the most likely
        EXPECT_FLOAT_EQ(ev.top[0].logprob, ev.logprob);
        EXPECT_LE(ev.logprob, 0.0f);
        EXPECT_GE(ev.top[0].logprob, ev.top[1].logprob);
        EXPECT_GE(ev.top[1].logprob, ev.top[2].logprob);
    }
}

}  // namespace
}  // namespace lokal::engine
