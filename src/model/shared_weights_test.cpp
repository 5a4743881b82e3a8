// The contexts of one model on a GPU share one copy of its weights: uploaded once, freed with
// the last context, the same logits bit for bit as a context alone, on any thread. ctest runs
// these with LOKAL_DEVICE=vulkan (model_reference_vulkan); on the CPU they are skipped.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "base/test_support.h"
#include "model/compute_device.h"
#include "model/context.h"
#include "model/gpu_residency.h"
#include "model/offload.h"

namespace lokal::model {
namespace {

constexpr const char* kModel = "models/tiny-llama-q4_k_m.gguf";

std::vector<int32_t> prompt(int n_vocab) {
    std::vector<int32_t> t(24);
    for (int i = 0; i < (int)t.size(); ++i) t[i] = (i * 37 + 11) % n_vocab;
    return t;
}

// The logits of every prompt token, then of one more token after the prompt.
std::vector<float> run(Context& ctx) {
    ctx.truncate(0);
    const std::vector<int32_t> tokens = prompt(ctx.n_vocab());
    ctx.eval(tokens, true);
    const size_t n = tokens.size() * (size_t)ctx.n_vocab();
    std::vector<float> out(ctx.logits(0), ctx.logits(0) + n);
    const int32_t next[1] = {tokens[3]};
    ctx.eval(next);
    out.insert(out.end(), ctx.logits(0), ctx.logits(0) + ctx.n_vocab());
    return out;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

ContextParams all_on_gpu() {
    ContextParams cp;
    cp.n_ctx = 64;
    cp.gpu_layers = -1;
    return cp;
}

uint64_t gpu_bytes_used_since(uint64_t free_before) {
    return free_before - gpu_free_bytes_now();
}

class SharedDeviceWeights : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!compute_device().gpu) GTEST_SKIP() << "runs on a GPU (LOKAL_DEVICE=vulkan)";
        LOKAL_REQUIRE_TESTDATA(kModel);
        model_ = Model::load(testing::testdata_path(kModel));
    }
    std::unique_ptr<Model> model_;
};

TEST_F(SharedDeviceWeights, TwoContextsUploadOnceAndGiveTheSameLogits) {
    const uint64_t free0 = gpu_free_bytes_now();
    auto a = std::make_unique<Context>(*model_, all_on_gpu());
    ASSERT_EQ(a->gpu_layers(), model_->config().n_layer);
    const uint64_t a_bytes = gpu_bytes_used_since(free0);
    const uint64_t weights = GpuResidency::of(*model_).weight_bytes();
    ASSERT_GT(weights, 0u);
    ASSERT_GT(a_bytes, weights);
    const std::vector<float> alone = run(*a);

    const uint64_t free1 = gpu_free_bytes_now();
    auto b = std::make_unique<Context>(*model_, all_on_gpu());
    ASSERT_EQ(b->gpu_layers(), model_->config().n_layer);
    // b's own buffers (KV cache, activations) only: the weights are a's.
    EXPECT_EQ(gpu_bytes_used_since(free1), a_bytes - weights);
    EXPECT_EQ(GpuResidency::of(*model_).weight_bytes(), weights);
    EXPECT_TRUE(same_bits(run(*b), alone));
    EXPECT_TRUE(same_bits(run(*a), alone));
    EXPECT_EQ(GpuResidency::of(*model_).weight_bytes(), weights);

    // The survivor keeps the weights and keeps working.
    a.reset();
    EXPECT_EQ(GpuResidency::of(*model_).weight_bytes(), weights);
    EXPECT_TRUE(same_bits(run(*b), alone));
    b.reset();
    EXPECT_EQ(GpuResidency::of(*model_).weight_bytes(), 0u);
    EXPECT_EQ(gpu_free_bytes_now(), free0);
}

TEST_F(SharedDeviceWeights, ASplitContextSharesTheLayersItHasOnTheGpu) {
    ContextParams cp = all_on_gpu();
    cp.gpu_layers = 1;
    std::vector<float> split_alone;
    {
        Context split(*model_, cp);
        split_alone = run(split);
    }
    Context whole(*model_, all_on_gpu());
    const std::vector<float> whole_alone = run(whole);
    const uint64_t weights = GpuResidency::of(*model_).weight_bytes();
    ASSERT_GT(weights, 0u);
    Context split(*model_, cp);
    ASSERT_EQ(split.gpu_layers(), 1);
    EXPECT_EQ(GpuResidency::of(*model_).weight_bytes(), weights);
    EXPECT_TRUE(same_bits(run(split), split_alone));
    EXPECT_TRUE(same_bits(run(whole), whole_alone));
}

TEST_F(SharedDeviceWeights, ContextsMadeAndRunOnTwoThreadsAtOnce) {
    std::vector<float> alone;
    uint64_t weights = 0;
    {
        Context c(*model_, all_on_gpu());
        alone = run(c);
        weights = GpuResidency::of(*model_).weight_bytes();
    }
    ASSERT_GT(weights, 0u);
    ASSERT_EQ(GpuResidency::of(*model_).weight_bytes(), 0u);
    std::vector<float> got[2];
    std::unique_ptr<Context> ctx[2];
    std::thread threads[2];
    for (int i = 0; i < 2; ++i) {
        threads[i] = std::thread([&, i] {
            ctx[i] = std::make_unique<Context>(*model_, all_on_gpu());
            for (int round = 0; round < 3; ++round) got[i] = run(*ctx[i]);
        });
    }
    for (std::thread& t : threads) t.join();
    EXPECT_EQ(GpuResidency::of(*model_).weight_bytes(), weights);
    EXPECT_TRUE(same_bits(got[0], alone));
    EXPECT_TRUE(same_bits(got[1], alone));
}

TEST_F(SharedDeviceWeights, TheOffloadPlanCountsWeightsOnTheDeviceAsThere) {
    const ModelConfig& c = model_->config();
    const uint64_t kv_layer = 2 * 64 * kernels::kv_row_bytes(KvType::F16, c.n_head_kv * c.head_dim);
    const OffloadPlan before = plan_offload(*model_, 64, 0, KvType::F16, 1ull << 40);
    EXPECT_GT(before.layer_bytes, kv_layer);
    EXPECT_GT(before.output_bytes, 0u);
    Context ctx(*model_, all_on_gpu());
    const OffloadPlan after =
        plan_offload(*model_, 64, 0, KvType::F16, 1ull << 40, GpuResidency::of(*model_));
    EXPECT_EQ(after.layer_bytes, kv_layer);
    EXPECT_EQ(after.output_bytes, 0u);
}

TEST_F(SharedDeviceWeights, ALaterModelFindsNoCopyOfAnEarlierOne) {
    {
        Context c(*model_, all_on_gpu());
        EXPECT_GT(GpuResidency::of(*model_).weight_bytes(), 0u);
    }
    const uint64_t first_id = model_->id();
    model_.reset();
    auto again = Model::load(testing::testdata_path(kModel));
    EXPECT_NE(again->id(), first_id);
    EXPECT_EQ(GpuResidency::of(*again).weight_bytes(), 0u);
}

}  // namespace
}  // namespace lokal::model
