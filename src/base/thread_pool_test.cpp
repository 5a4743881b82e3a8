#include "base/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <vector>

namespace lokal {

TEST(ThreadPool, ParallelForCoversEveryIndexOnce) {
    for (int threads : {1, 2, 3, 5}) {
        ThreadPool pool(threads);
        for (int64_t n : {0, 1, 7, 1000}) {
            std::vector<std::atomic<int>> hits(n);
            for (int rep = 0; rep < 50; ++rep) {
                pool.parallel_for(n, 1, [&](int64_t b, int64_t e) {
                    for (int64_t i = b; i < e; ++i) hits[i].fetch_add(1);
                });
            }
            for (int64_t i = 0; i < n; ++i) EXPECT_EQ(hits[i].load(), 50);
        }
    }
}

TEST(ThreadPool, RunGivesEachThreadItsIndex) {
    ThreadPool pool(4);
    std::vector<std::atomic<int>> seen(4);
    pool.run([&](int ith, int nth) {
        EXPECT_EQ(nth, 4);
        seen[ith].fetch_add(1);
    });
    for (auto& s : seen) EXPECT_EQ(s.load(), 1);
}

TEST(ThreadPool, SplitRangeIsBalanced) {
    auto [b0, e0] = ThreadPool::split_range(10, 0, 3);
    auto [b1, e1] = ThreadPool::split_range(10, 1, 3);
    auto [b2, e2] = ThreadPool::split_range(10, 2, 3);
    EXPECT_EQ(b0, 0);
    EXPECT_EQ(e0, b1);
    EXPECT_EQ(e1, b2);
    EXPECT_EQ(e2, 10);
    EXPECT_LE((e0 - b0) - (e2 - b2), 1);
}

TEST(ThreadPool, DefaultThreadsIsPositive) {
    EXPECT_GE(ThreadPool::default_threads(), 1);
}

}  // namespace lokal
