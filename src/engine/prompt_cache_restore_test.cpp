// Restoring a KV snapshot gives the logits evaluating the prompt gave, bit for bit: on a new
// Context (a restart), through the file format, for sliding-window models too, and through the
// scheduler after a restart. LOKAL_DEVICE=vulkan runs the same checks on the GPU (and on a
// Context split between GPU and CPU).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <future>

#include "base/test_support.h"
#include "engine/batch_scheduler.h"
#include "engine/context_snapshot.h"
#include "model/compute_device.h"
#include "tokenizer/tokenizer.h"

namespace lokal::engine {
namespace {

namespace fs = std::filesystem;

std::vector<int32_t> long_prompt(const model::Model& m, int min_tokens) {
    std::string text = "Once upon a time there was a little girl named Lily.";
    std::vector<int32_t> t;
    for (int i = 0; (int)t.size() < min_tokens; ++i) {
        text += " She liked to play in the park with her friend number " + std::to_string(i) +
                " and they ran to the big tree.";
        t = m.tokenizer().encode(text, true, false);
    }
    return t;
}

std::vector<float> eval_all(model::Context& ctx, std::span<const int32_t> tokens) {
    ctx.eval(tokens, true);
    const size_t n = (size_t)ctx.n_vocab() * tokens.size();
    return {ctx.logits(0), ctx.logits(0) + n};
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * 4) == 0;
}

struct Case {
    const char* file;
    kernels::KvType kv_type;
    int gpu_layers;  // on a GPU; -1: all that fit
};

class RestoreEquality : public ::testing::TestWithParam<Case> {};

TEST_P(RestoreEquality, LogitsAfterRestoreMatchBitForBit) {
    const Case c = GetParam();
    LOKAL_REQUIRE_TESTDATA(std::string("models/") + c.file);
    auto model = model::Model::load(testing::testdata_path(std::string("models/") + c.file));
    // Longer than a sliding window where the model has one (tiny-gemma's), so restored rows
    // beyond the window and inside it both matter.
    const int window = model->config().n_swa;
    const std::vector<int32_t> all =
        long_prompt(*model, window > 0 && window < 400 ? std::max(160, window + 40) : 160);
    if (window > 0 && window >= 400) std::printf("window %d: the prompt stays inside it\n", window);
    const size_t n_prefix = all.size() - 24;
    const std::span<const int32_t> prefix(all.data(), n_prefix), rest(all.data() + n_prefix, 24);
    model::ContextParams cp;
    cp.n_ctx = 512;
    cp.kv_type = c.kv_type;
    cp.gpu_layers = c.gpu_layers;

    std::vector<uint8_t> file;
    std::vector<float> expected;
    {
        model::Context a(*model, cp);
        a.eval(prefix);
        const auto snap = snapshot_sequence(a, 0, prefix, snapshot_key(a, "test-model"));
        file = encode_snapshot(*snap);
        expected = eval_all(a, rest);
    }
    model::Context b(*model, cp);  // a restart
    std::printf("%s: %d of %d layers on the GPU\n", c.file, b.gpu_layers(),
                model->config().n_layer);
    std::string why;
    const auto snap = decode_snapshot(file, snapshot_key(b, "test-model"), &why);
    ASSERT_TRUE(snap) << why;
    ASSERT_TRUE(restore_sequence(b, 0, *snap, n_prefix));
    EXPECT_EQ(b.n_past(), (int)n_prefix);
    EXPECT_TRUE(same_bits(eval_all(b, rest), expected));

    // A shorter prefix of the snapshot: the rest of the prompt is evaluated on top of it, as a
    // Context that evaluated the same pieces computes it.
    const size_t k = n_prefix / 2 + 3;
    model::Context oracle(*model, cp);
    oracle.eval({all.data(), k});
    const std::span<const int32_t> after(all.data() + k, all.size() - k);
    const std::vector<float> want = eval_all(oracle, after);
    ASSERT_TRUE(restore_sequence(b, 0, *snap, k));
    EXPECT_TRUE(same_bits(eval_all(b, after), want));
}

INSTANTIATE_TEST_SUITE_P(
    Models, RestoreEquality,
    ::testing::Values(Case{"stories260K.gguf", kernels::KvType::F16, -1},
                      Case{"tiny-llama-q4_k_m.gguf", kernels::KvType::Q8_0, -1},
                      Case{"tiny-llama-h64-q8_0.gguf", kernels::KvType::F32, 1},
                      Case{"tiny-gemma2-q4_k_m.gguf", kernels::KvType::F16, -1},
                      Case{"tiny-gemma3-q4_k_m.gguf", kernels::KvType::F16, 1}));

// Through the scheduler: the next turn after a restart (restored from disk) answers with the
// logprobs of the same turn served from the in-memory prefix cache, bit for bit.
TEST(PromptCacheScheduler, ARestartRestoresTheConversation) {
    LOKAL_REQUIRE_TESTDATA("models/stories260K.gguf");
    auto model = model::Model::load(testing::testdata_path("models/stories260K.gguf"));
    const fs::path dir =
        fs::temp_directory_path() / ("lokal-pcache-sched-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    SchedulerParams sp;
    sp.n_parallel = 2;
    sp.n_ctx = 512;
    sp.prompt_cache.dir = dir.string();
    sp.prompt_cache.model = "stories";
    sp.prompt_cache.min_tokens = 64;

    struct Turn {
        std::vector<float> logprobs;
        std::vector<int32_t> context;
        int cached = 0;
    };
    auto run = [](BatchScheduler& s, std::vector<int32_t> prompt) {
        auto done = std::make_shared<std::promise<Turn>>();
        auto turn = std::make_shared<Turn>();
        auto r = std::make_shared<SequenceRequest>();
        r->prompt = std::move(prompt);
        r->sampling.temperature = 0;
        r->sampling.repeat_penalty = 1.0f;
        r->options.max_tokens = 12;
        r->n_probs = 0;
        r->on_token = [turn](const TokenEvent& ev) {
            if (ev.token >= 0) turn->logprobs.push_back(ev.logprob);
            return true;
        };
        r->on_done = [turn, done](const SequenceResult& res) {
            turn->context = res.context;
            turn->cached = res.cached_tokens;
            done->set_value(*turn);
        };
        EXPECT_TRUE(s.submit(r));
        return done->get_future().get();
    };
    const std::vector<int32_t> first = long_prompt(*model, 150);
    std::vector<int32_t> second;
    Turn warm;
    {
        BatchScheduler s(*model, sp);
        const Turn t1 = run(s, first);
        // The conversation so far and one more token: both the in-memory hit and the restore
        // then evaluate exactly that token (a pass of other sizes may round differently).
        second = t1.context;
        second.push_back(model->tokenizer().encode(" What", false, false).front());
        warm = run(s, second);
        EXPECT_GE(warm.cached, (int)t1.context.size() - 1);  // the in-memory hit
    }
    BatchScheduler restarted(*model, sp);
    const Turn cold = run(restarted, second);
    EXPECT_GE(cold.cached, (int)first.size());  // from the disk
    ASSERT_EQ(cold.logprobs.size(), warm.logprobs.size());
    EXPECT_EQ(0, std::memcmp(cold.logprobs.data(), warm.logprobs.data(), warm.logprobs.size() * 4));
    EXPECT_EQ(cold.context, warm.context);

    // Off: nothing is restored.
    SchedulerParams off = sp;
    off.prompt_cache.dir.clear();
    BatchScheduler plain(*model, off);
    EXPECT_EQ(run(plain, second).cached, 0);
    fs::remove_all(dir);
}

}  // namespace
}  // namespace lokal::engine
