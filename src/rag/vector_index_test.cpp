#include "rag/vector_index.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <random>
#include <set>

namespace lokal::rag {
namespace {
namespace fs = std::filesystem;

std::vector<float> random_unit(std::mt19937& rng, int dim) {
    std::normal_distribution<float> nd;
    std::vector<float> v((size_t)dim);
    float n = 0;
    for (float& x : v) {
        x = nd(rng);
        n += x * x;
    }
    for (float& x : v) x /= std::sqrt(n);
    return v;
}

class VectorIndexTest : public testing::Test {
  protected:
    void SetUp() override {
        base_ = (fs::temp_directory_path() / ("lokal-vi-" + std::to_string(::getpid()))).string();
        TearDown();
    }
    void TearDown() override {
        for (const char* s : {".sqlite", ".sqlite-wal", ".sqlite-shm", ".hnsw"}) fs::remove(base_ + s);
    }
    // `files` files of `per_file` chunks with random vectors.
    void fill(KnowledgeBase& kb, int files, int per_file, std::mt19937& rng) {
        kb.set_meta("dim", std::to_string(kDim));
        for (int f = 0; f < files; ++f) {
            std::vector<Chunk> chunks;
            std::vector<std::vector<float>> vecs;
            for (int c = 0; c < per_file; ++c) {
                chunks.push_back({c + 1, c + 1, "chunk " + std::to_string(c)});
                vecs.push_back(random_unit(rng, kDim));
            }
            kb.put_file({0, "f" + std::to_string(f) + "_" + std::to_string(rng()), "h", 0, 0}, chunks, vecs);
        }
    }
    static constexpr int kDim = 32;
    std::string base_;
};

TEST_F(VectorIndexTest, TheGraphFindsWhatTheScanFinds) {
    std::mt19937 rng(7);
    KnowledgeBase kb(base_ + ".sqlite");
    fill(kb, 40, 50, rng);  // 2000 chunks
    const VectorIndexOptions opt{base_ + ".hnsw", 100};
    ASSERT_TRUE(rebuild_vector_index(kb, opt));
    double recall = 0;
    const int queries = 50;
    for (int q = 0; q < queries; ++q) {
        const std::vector<float> query = random_unit(rng, kDim);
        const auto exact = scan_nearest(kb, query, 10);
        const auto approx = nearest_chunks(kb, query, 10, opt);
        ASSERT_EQ(approx.size(), 10u);
        std::set<int64_t> want;
        for (const auto& [id, s] : exact) want.insert(id);
        for (const auto& [id, s] : approx) recall += want.count(id) ? 1 : 0;
        // Scores are the cosines themselves, best first.
        EXPECT_NEAR(approx[0].second, exact[0].second, 1e-4);  // float sums in another order
        for (size_t i = 1; i < approx.size(); ++i) EXPECT_GE(approx[i - 1].second, approx[i].second);
    }
    // HNSW is approximate; with M=16 and ef>=64 on 2000 points it misses well under 10%.
    EXPECT_GE(recall / (queries * 10), 0.9);
}

TEST_F(VectorIndexTest, AStaleGraphFallsBackToTheExactScan) {
    std::mt19937 rng(11);
    KnowledgeBase kb(base_ + ".sqlite");
    fill(kb, 10, 20, rng);
    const VectorIndexOptions opt{base_ + ".hnsw", 100};
    ASSERT_TRUE(rebuild_vector_index(kb, opt));
    // A new file after the graph was built: its chunk must still be found.
    const std::vector<float> target = random_unit(rng, kDim);
    kb.put_file({0, "new.txt", "h", 0, 0}, {{1, 1, "new"}}, {target});
    const auto hits = nearest_chunks(kb, target, 1, opt);
    ASSERT_EQ(hits.size(), 1u);
    EXPECT_EQ(kb.chunk(hits[0].first).path, "new.txt");
    // Rebuilt, the graph finds it too.
    ASSERT_TRUE(rebuild_vector_index(kb, opt));
    EXPECT_EQ(kb.chunk(nearest_chunks(kb, target, 1, opt).at(0).first).path, "new.txt");
    // Under the threshold there is no graph at all.
    EXPECT_FALSE(rebuild_vector_index(kb, {base_ + ".hnsw", 1000}));
    EXPECT_FALSE(fs::exists(base_ + ".hnsw"));
}

}  // namespace
}  // namespace lokal::rag
