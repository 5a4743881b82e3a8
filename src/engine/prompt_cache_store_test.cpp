#include "engine/prompt_cache_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <unistd.h>

#include "base/error.h"

namespace lokal::engine {
namespace {

namespace fs = std::filesystem;

class PromptCacheStoreTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() /
               ("lokal-pcache-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }

    PromptCacheParams params(uint64_t max_bytes = 1 << 20) const {
        PromptCacheParams p;
        p.dir = dir_.string();
        p.model = "sha256-test";
        p.max_bytes = max_bytes;
        p.min_tokens = 1;
        return p;
    }
    static SnapshotKey key() { return {"sha256-test", kernels::KvType::F16, 2, 16}; }
    static std::shared_ptr<KvSnapshot> snapshot(std::vector<int32_t> tokens, uint8_t fill = 1) {
        auto s = std::make_shared<KvSnapshot>();
        s->key = key();
        s->tokens = std::move(tokens);
        s->rows.assign(s->key.rows_bytes(s->tokens.size()), fill);
        return s;
    }
    static std::vector<int32_t> range(int first, int n) {
        std::vector<int32_t> t;
        for (int i = 0; i < n; ++i) t.push_back(first + i);
        return t;
    }
    uint64_t dir_bytes() const {
        uint64_t total = 0;
        std::error_code ec;
        for (const auto& e : fs::directory_iterator(dir_, ec)) {
            std::error_code gone;  // another writer may remove it meanwhile
            const uint64_t size = e.file_size(gone);
            if (e.path().filename().string()[0] != '.' && !gone) total += size;
        }
        return total;
    }
    std::vector<fs::path> files() const {
        std::vector<fs::path> out;
        for (const auto& e : fs::directory_iterator(dir_)) {
            if (e.path().filename().string()[0] != '.') out.push_back(e.path());
        }
        return out;
    }

    fs::path dir_;
};

TEST_F(PromptCacheStoreTest, ASnapshotSurvivesTheStore) {
    {
        PromptCacheStore store(params(), key());
        store.save(snapshot(range(10, 20), 7));
        store.wait_idle();
    }
    PromptCacheStore fresh(params(), key());  // a restart: nothing in RAM
    std::vector<int32_t> prompt = range(10, 12);
    prompt.push_back(999);
    const auto m = fresh.find(prompt, 0);
    ASSERT_TRUE(m.snapshot);
    EXPECT_EQ(m.n, 12u);
    EXPECT_EQ(m.snapshot->tokens, range(10, 20));
    EXPECT_EQ(m.snapshot->rows, snapshot(range(10, 20), 7)->rows);
    EXPECT_FALSE(fresh.find(prompt, 12).snapshot);  // no longer than what is held already
    EXPECT_FALSE(fresh.find(range(11, 5), 0).snapshot);
    EXPECT_TRUE(fresh.covers(range(10, 20)));
    EXPECT_FALSE(fresh.covers(range(10, 21)));
}

TEST_F(PromptCacheStoreTest, ALongerSnapshotReplacesTheOneItExtends) {
    PromptCacheStore store(params(), key());
    store.save(snapshot(range(0, 10)));
    store.wait_idle();
    store.save(snapshot(range(0, 30)));
    store.wait_idle();
    ASSERT_EQ(files().size(), 1u);
    EXPECT_EQ(store.find(range(0, 40), 0).n, 30u);
}

TEST_F(PromptCacheStoreTest, ForeignModelsAndDamagedFilesAreIgnored) {
    {
        PromptCacheParams p = params();
        p.model = "sha256-other";
        PromptCacheStore other(p, {"sha256-other", kernels::KvType::F16, 2, 16});
        auto s = snapshot(range(0, 10));
        s->key.model = "sha256-other";
        other.save(s);
        other.wait_idle();
        PromptCacheStore ours(params(), key());
        ours.save(snapshot(range(100, 10)));
        ours.wait_idle();
    }
    // Damage our file: the snapshot is skipped, never loaded.
    for (const fs::path& f : files()) {
        std::vector<char> b(fs::file_size(f));
        std::ifstream(f, std::ios::binary).read(b.data(), (std::streamsize)b.size());
        b[b.size() / 2] ^= 0x10;
        std::ofstream(f, std::ios::binary | std::ios::trunc)
            .write(b.data(), (std::streamsize)b.size());
    }
    std::ofstream(dir_ / "junk.kv") << "not a snapshot";
    PromptCacheStore store(params(), key());
    EXPECT_FALSE(store.find(range(0, 10), 0).snapshot);    // another model's
    EXPECT_FALSE(store.find(range(100, 10), 0).snapshot);  // damaged
}

TEST_F(PromptCacheStoreTest, TheCapIsNeverExceeded) {
    const uint64_t one = encode_snapshot(*snapshot(range(0, 50))).size();
    const uint64_t cap = one * 3 + one / 2;
    PromptCacheStore store(params(cap), key());
    for (int i = 0; i < 12; ++i) {
        store.save(snapshot(range(1000 * i, 50)));
        store.wait_idle();
        EXPECT_LE(dir_bytes(), cap) << i;
    }
    EXPECT_EQ(files().size(), 3u);
    // The newest are kept: the oldest went first.
    PromptCacheStore fresh(params(cap), key());
    EXPECT_TRUE(fresh.find(range(11000, 50), 0).snapshot);
    EXPECT_FALSE(fresh.find(range(0, 50), 0).snapshot);
    // One larger than the cap is never written.
    store.save(snapshot(range(0, 400)));
    store.wait_idle();
    EXPECT_LE(dir_bytes(), cap);
}

TEST_F(PromptCacheStoreTest, SeveralWritersOfOneKeyLeaveOneWholeFile) {
    // Separate instances (as separate processes have) write the same snapshot and others at
    // once, under a cap that forces evictions.
    const uint64_t one = encode_snapshot(*snapshot(range(0, 50))).size();
    const uint64_t cap = one * 4;
    std::vector<std::thread> threads;
    for (int w = 0; w < 4; ++w) {
        threads.emplace_back([&, w] {
            PromptCacheStore store(params(cap), key());
            for (int i = 0; i < 10; ++i) {
                store.save(snapshot(range(0, 50), 9));
                store.save(snapshot(range(5000 + 100 * i + w * 10000, 50)));
                store.wait_idle();
                EXPECT_LE(dir_bytes(), cap);
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_LE(dir_bytes(), cap);
    for (const auto& e : fs::directory_iterator(dir_)) {
        EXPECT_NE(e.path().filename().string().rfind(".tmp-", 0), 0u)
            << "left behind: " << e.path();
    }
    PromptCacheStore fresh(params(cap), key());
    for (const fs::path& f : files()) {  // every file that is there is whole
        std::vector<uint8_t> b(fs::file_size(f));
        std::ifstream(f, std::ios::binary)
            .read(reinterpret_cast<char*>(b.data()), (std::streamsize)b.size());
        std::string why;
        EXPECT_TRUE(decode_snapshot(b, key(), &why)) << f << ": " << why;
    }
}

TEST_F(PromptCacheStoreTest, TheRamTierServesWithoutTheDisk) {
    PromptCacheStore store(params(), key());
    store.save(snapshot(range(0, 20), 3));
    store.wait_idle();
    for (const fs::path& f : files()) fs::remove(f);
    const auto m = store.find(range(0, 20), 0);
    ASSERT_TRUE(m.snapshot);
    EXPECT_EQ(m.snapshot->rows[0], 3);
}

TEST_F(PromptCacheStoreTest, NamedSnapshotsRejectPathsAndRoundTrip) {
    PromptCacheStore store(params(), key());
    for (const char* bad : {"../x", "a/b", "..", ".hidden", "", "/etc/passwd", "a\\b"}) {
        EXPECT_FALSE(valid_snapshot_name(bad)) << bad;
        EXPECT_THROW(store.save_named(bad, *snapshot(range(0, 3))), Error) << bad;
        EXPECT_THROW(store.load_named(bad), Error) << bad;
    }
    store.save_named("slot0.bin", *snapshot(range(0, 3), 5));
    const KvSnapshot back = store.load_named("slot0.bin");
    EXPECT_EQ(back.tokens, range(0, 3));
    EXPECT_EQ(back.rows[0], 5);
    EXPECT_THROW(store.load_named("missing.bin"), Error);
    EXPECT_TRUE(store.erase_named("slot0.bin"));
    EXPECT_EQ(list_prompt_cache(dir_).size(), 0u);
}

TEST_F(PromptCacheStoreTest, ListAndClear) {
    PromptCacheStore store(params(), key());
    store.save(snapshot(range(0, 20)));
    store.wait_idle();
    const auto list = list_prompt_cache(dir_);
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0].model, "sha256-test");
    EXPECT_EQ(list[0].n_tokens, 20u);
    EXPECT_EQ(list[0].kv_type, "f16");
    EXPECT_EQ(clear_prompt_cache(dir_), 1);
    EXPECT_TRUE(list_prompt_cache(dir_).empty());
}

}  // namespace
}  // namespace lokal::engine
