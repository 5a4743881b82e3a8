// KvAttention::attend gives a token the same bits whatever else is in its batch and however many
// workgroups share its positions (continuous batching and speculative decoding stay exact):
// each token is computed alone without a split, then alone with 2, several and the most
// splits, and in batches of several sizes (which choose their own split counts), and every
// output must be bit for bit the first. Contexts from 1 to 3000 positions cover one tile, its
// edges (127, 128, 129) and many tiles; the cases cover grouped-query heads (more than a
// workgroup's 8 too), sliding windows that start inside a tile, soft-capping and every cache
// type. (kv_attend_test.cpp checks the values themselves.)
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "backends/vulkan/kv_attention.h"
#include "backends/vulkan/kv_test_cache.h"
#include "backends/vulkan/test_gpu.h"
#include "backends/vulkan/transfer.h"
#include "base/random_values.h"

namespace lokal::vk {
namespace {

using kernels::KvType;
using testing::AttendCase;
using testing::KvTestCache;
using testing::SeqPos;
using testing::TestBatchIndex;

class KvAttendExactTest : public testing::VulkanTest,
                          public ::testing::WithParamInterface<AttendCase> {};

TEST_P(KvAttendExactTest, TokenBitsDoNotDependOnBatchOrSplits) {
    const AttendCase& c = GetParam();
    const int hd = c.head_dim, n_head = c.group * c.n_head_kv, width = n_head * hd;
    const int row_elems = c.n_head_kv * hd;
    const std::vector<int> lens = {3000, 700, 130};
    KvTestCache cache(c.type, (uint32_t)row_elems, 1, 16, lens);
    uint32_t seed = 11;
    for (int s = 0; s < (int)lens.size(); ++s) {
        for (int pos = 0; pos < lens[s]; ++pos) {
            const std::vector<float> k = random_normal(row_elems, seed++, 1.0f);
            const std::vector<float> v = random_normal(row_elems, seed++, 1.0f);
            cache.cpu->store(s, 0, pos, k.data(), v.data());
        }
    }
    // The tokens checked (each with a query of its own), then short-context fillers that only
    // make batches larger.
    const std::vector<SeqPos> tokens = {{0, 0},    {0, 126}, {0, 127}, {0, 128}, {0, 699},
                                        {0, 2999}, {1, 699}, {1, 300}, {2, 129}};
    const int n_tok = (int)tokens.size();
    std::vector<std::vector<float>> queries;
    queries.reserve(n_tok + 1);
    for (int i = 0; i < n_tok + 1; ++i) queries.push_back(random_normal(width, 500 + i, 1.0f));

    backends::AttentionShape shape;
    shape.n_head = n_head;
    shape.n_head_kv = c.n_head_kv;
    shape.head_dim = hd;
    shape.scale = 2.0f / std::sqrt((float)hd);  // scores of sd 2: a peaked softmax
    shape.softcap = c.softcap;
    shape.window = c.window;

    CommandStream stream(device());
    const std::vector<uint8_t> image = cache.pool_image();
    const Buffer pool(device(), image.size(), MemoryKind::DeviceLocal, "pool");
    upload(stream, pool, 0, image.data(), image.size());
    KvAttention kv(device(), cache.geometry);
    std::set<uint32_t> splits_seen;

    // Runs the batch `which` (indices into tokens; -1 a filler) and returns each row's output.
    auto run = [&](const std::vector<int>& which, uint32_t hint) {
        const int n = (int)which.size();
        std::vector<SeqPos> batch;
        std::vector<float> q;
        for (int i = 0; i < n; ++i) {
            batch.push_back(which[i] >= 0 ? tokens[which[i]] : SeqPos{2, i % 100});
            const std::vector<float>& qi = queries[which[i] >= 0 ? which[i] : n_tok];
            q.insert(q.end(), qi.begin(), qi.end());
        }
        const Buffer q_buf(device(), 4 * q.size(), MemoryKind::DeviceLocal, "q");
        upload(stream, q_buf, 0, q.data(), 4 * q.size());
        const Buffer o_buf(device(), 4 * q.size(), MemoryKind::DeviceLocal, "out");
        const TestBatchIndex idx(device(), stream, cache, batch);
        kv.attend(stream, pool, 0, {&q_buf, 0, (uint32_t)width}, {&o_buf, 0, (uint32_t)width},
                  (uint32_t)n, idx.index(), shape, hint);
        std::vector<float> out(q.size());
        download(stream, o_buf, 0, out.data(), 4 * out.size());
        splits_seen.insert(
            KvAttention::splits_for((uint32_t)n, (uint32_t)n_head, (uint32_t)c.n_head_kv, hint));
        std::vector<std::vector<float>> rows;
        rows.reserve(n);
        for (int i = 0; i < n; ++i) {
            rows.emplace_back(out.begin() + i * width, out.begin() + (i + 1) * width);
        }
        return rows;
    };

    std::vector<std::vector<float>> want;  // each token alone, unsplit
    want.reserve(n_tok);
    for (int i = 0; i < n_tok; ++i) want.push_back(run({i}, 1)[0]);

    auto expect_same = [&](const std::vector<int>& which, uint32_t hint, const std::string& what) {
        const std::vector<std::vector<float>> got = run(which, hint);
        for (size_t r = 0; r < which.size(); ++r) {
            if (which[r] < 0) continue;
            const std::vector<float>& w = want[which[r]];
            for (int e = 0; e < width; ++e) {
                ASSERT_EQ(std::bit_cast<uint32_t>(got[r][e]), std::bit_cast<uint32_t>(w[e]))
                    << what << ", max_visible " << hint << ": token at position "
                    << tokens[which[r]].pos << " of sequence " << tokens[which[r]].seq
                    << ", element " << e << ": " << got[r][e] << " vs " << w[e] << " alone";
            }
        }
    };

    // Alone: 2 splits (a hint of 2 tiles), 5, and the most the batch size allows.
    for (int i = 0; i < n_tok; ++i) {
        for (uint32_t hint : {256u, 640u, UINT32_MAX}) {
            expect_same({i}, hint, "alone");
            if (HasFatalFailure()) return;
        }
    }
    // Together, in two orders, with several split counts.
    std::vector<int> all(n_tok), reversed(n_tok);
    for (int i = 0; i < n_tok; ++i) all[i] = reversed[n_tok - 1 - i] = i;
    for (uint32_t hint : {1u, 384u, UINT32_MAX}) {
        expect_same(all, hint, "all tokens");
        if (HasFatalFailure()) return;
        expect_same(reversed, hint, "all tokens reversed");
        if (HasFatalFailure()) return;
    }
    // Larger batches: every token among fillers, split fewer ways, then not at all once the
    // batch fills the device (or, for 24 tokens of 12 heads of 256, once the partial results
    // would not fit the scratch buffer).
    for (int n : {12, 24, 70, 200}) {
        std::vector<int> which(n, -1);
        for (int i = 0; i < n_tok; ++i) which[(size_t)(i * 7 + 3) % n] = i;
        expect_same(which, UINT32_MAX, "a batch of " + std::to_string(n));
        if (HasFatalFailure()) return;
    }
    // The runs above took 1, 2, several and the most splits.
    EXPECT_TRUE(splits_seen.count(1) && splits_seen.count(2) && splits_seen.size() >= 4);
    EXPECT_EQ(*splits_seen.rbegin(),
              KvAttention::splits_for(1, (uint32_t)n_head, (uint32_t)c.n_head_kv, UINT32_MAX));
}

INSTANTIATE_TEST_SUITE_P(Shapes, KvAttendExactTest,
                         ::testing::Values(AttendCase{KvType::F32, 64, 4, 2, 0, 0},
                                           AttendCase{KvType::F16, 128, 2, 2, 0, 0},
                                           AttendCase{KvType::F16, 64, 8, 1, 300, 0},
                                           AttendCase{KvType::Q8_0, 64, 2, 2, 0, 4},
                                           AttendCase{KvType::Q8_0, 128, 1, 4, 1000, 30},
                                           AttendCase{KvType::F32, 256, 12, 1, 0, 0},
                                           AttendCase{KvType::F16, 80, 1, 1, 129, 0}),
                         testing::attend_case_name);

}  // namespace
}  // namespace lokal::vk
