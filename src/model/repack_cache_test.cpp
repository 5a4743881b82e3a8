// The repack cache: a model mapped from its cache file has byte for byte the packed matrices
// (and logits) of one packed from scratch; a stale, truncated or damaged file is ignored and
// replaced; concurrent writers leave one whole file.
#include "model/repack_cache.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "base/test_support.h"
#include "kernels/cpu/packed.h"
#include "model/context.h"
#include "model/model.h"

namespace lokal::model {
namespace {

namespace fs = std::filesystem;

constexpr const char* kModel = "models/tiny-llama-h64-q4_k_m.gguf";

class RepackCache : public ::testing::Test {
  protected:
    void SetUp() override {
        LOKAL_REQUIRE_TESTDATA(kModel);
        if (!kernels::repack_enabled()) GTEST_SKIP() << "LOKAL_REPACK=0: nothing is packed";
        dir_ = fs::temp_directory_path() /
               ("lokal-repack-cache-test-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
        // A private copy: the staleness test changes its modification time.
        model_ = (dir_ / "model.gguf").string();
        fs::copy_file(testing::testdata_path(kModel), model_);
        params_.dir = (dir_ / "cache").string();
        params_.min_bytes = 0;
    }
    void TearDown() override {
        if (!dir_.empty()) fs::remove_all(dir_);
    }

    std::unique_ptr<Model> load() {
        auto m = Model::load(model_, params_);
        m->packed().wait_for_cache_write();
        return m;
    }
    std::string cache_file() const { return repack_cache_path(params_, model_); }

    fs::path dir_;
    std::string model_;
    RepackCacheParams params_;
};

std::vector<const MatrixView*> matrices(const Model& m) {
    std::vector<const MatrixView*> out;
    for (const LayerWeights& L : m.weights().layers) {
        for (const MatrixView* v :
             {&L.wq, &L.wk, &L.wv, &L.wqkv, &L.wo, &L.w_gate, &L.w_up, &L.w_down}) {
            out.push_back(v);
        }
    }
    out.push_back(&m.weights().output);
    out.push_back(&m.weights().tok_embd);
    return out;
}

// Every matrix packed alike, with the same bytes; the stored ones the same views.
void expect_same_weights(const Model& a, const Model& b) {
    const auto ma = matrices(a), mb = matrices(b);
    ASSERT_EQ(ma.size(), mb.size());
    int packed = 0;
    for (size_t i = 0; i < ma.size(); ++i) {
        const MatrixView &x = *ma[i], &y = *mb[i];
        ASSERT_EQ(x.packed, y.packed) << "matrix " << i;
        ASSERT_EQ(x.type, y.type);
        ASSERT_EQ(x.rows, y.rows);
        ASSERT_EQ(x.row_stride, y.row_stride);
        if (!x.packed) continue;
        ++packed;
        const uint64_t n = x.row_stride * (x.rows / kernels::kPackRows);
        EXPECT_EQ(std::memcmp(x.data, y.data, n), 0) << "matrix " << i;
    }
    EXPECT_GT(packed, 0);
    EXPECT_EQ(a.packed().bytes(), b.packed().bytes());
    EXPECT_EQ(a.packed().matrices(), b.packed().matrices());
}

std::vector<float> logits_of(const Model& m) {
    ContextParams cp;
    cp.n_ctx = 64;
    cp.n_threads = 1;
    Context ctx(m, cp);
    const std::vector<int32_t> tokens = {1, 15, 27, 3, 42, 8};
    ctx.eval(tokens, true);
    const size_t n = (size_t)ctx.n_vocab() * tokens.size();
    return std::vector<float>(ctx.logits(0), ctx.logits(0) + n);
}

void damage(const std::string& path, uint64_t offset) {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg((std::streamoff)offset);
    char c = 0;
    f.read(&c, 1);
    c = (char)(c ^ 0x10);
    f.seekp((std::streamoff)offset);
    f.write(&c, 1);
}

TEST_F(RepackCache, MappedFromTheCacheIsByteForByteARepack) {
    auto fresh = load();
    EXPECT_FALSE(fresh->packed().from_cache());
    ASSERT_TRUE(fs::exists(cache_file()));
    auto cached = load();
    EXPECT_TRUE(cached->packed().from_cache());
    expect_same_weights(*fresh, *cached);
    EXPECT_EQ(logits_of(*fresh), logits_of(*cached));
    // No temporary file is left behind.
    int files = 0;
    for (const auto& e : fs::directory_iterator(fs::path(cache_file()).parent_path())) {
        (void)e;
        ++files;
    }
    EXPECT_EQ(files, 1);
}

TEST_F(RepackCache, DamagedMatrixBytesAreIgnoredAndReplaced) {
    auto fresh = load();
    // A byte in the middle of the output matrix's packed bytes (found by its first 64 bytes).
    const MatrixView& out = fresh->weights().output;
    ASSERT_TRUE(out.packed);
    std::ifstream in(cache_file(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const size_t at = bytes.find(std::string(reinterpret_cast<const char*>(out.data), 64));
    ASSERT_NE(at, std::string::npos);
    damage(cache_file(), at + out.row_stride / 2);
    auto again = load();
    EXPECT_FALSE(again->packed().from_cache());
    expect_same_weights(*fresh, *again);
    auto cached = load();  // the damaged file was replaced
    EXPECT_TRUE(cached->packed().from_cache());
    expect_same_weights(*fresh, *cached);
}

TEST_F(RepackCache, DamagedHeaderIsIgnored) {
    auto fresh = load();
    for (uint64_t at : {0, 12, 40, 200}) {
        damage(cache_file(), at);
        auto again = load();
        EXPECT_FALSE(again->packed().from_cache()) << "byte " << at;
        expect_same_weights(*fresh, *again);
    }
}

TEST_F(RepackCache, TruncatedFileIsIgnored) {
    auto fresh = load();
    const uint64_t size = fs::file_size(cache_file());
    for (uint64_t keep : {size - 4096, size / 2, (uint64_t)100, (uint64_t)0}) {
        fs::resize_file(cache_file(), keep);
        auto again = load();
        EXPECT_FALSE(again->packed().from_cache()) << "kept " << keep;
        expect_same_weights(*fresh, *again);
    }
}

TEST_F(RepackCache, ChangedModelFileMakesItStale) {
    auto fresh = load();
    fs::last_write_time(model_, fs::last_write_time(model_) + std::chrono::seconds(5));
    auto again = load();
    EXPECT_FALSE(again->packed().from_cache());
    expect_same_weights(*fresh, *again);
    EXPECT_TRUE(load()->packed().from_cache());
}

TEST_F(RepackCache, SmallModelsAreNotCached) {
    params_.min_bytes = 1ull << 40;
    auto m = load();
    EXPECT_FALSE(m->packed().from_cache());
    EXPECT_FALSE(fs::exists(cache_file()));
}

TEST_F(RepackCache, ConcurrentWritersLeaveOneWholeFile) {
    std::vector<std::thread> threads;
    std::vector<std::unique_ptr<Model>> models(4);
    for (size_t i = 0; i < models.size(); ++i) {
        threads.emplace_back([&, i] { models[i] = load(); });
    }
    for (std::thread& t : threads) t.join();
    auto cached = load();
    EXPECT_TRUE(cached->packed().from_cache());
    for (const auto& m : models) expect_same_weights(*m, *cached);
    int files = 0;
    for (const auto& e : fs::directory_iterator(fs::path(cache_file()).parent_path())) {
        EXPECT_EQ(e.path().extension(), ".packed") << e.path();
        ++files;
    }
    EXPECT_EQ(files, 1);
}

TEST_F(RepackCache, AbandonedTemporaryFilesAreRemoved) {
    const fs::path dir = fs::path(cache_file()).parent_path();
    fs::create_directories(dir);
    const fs::path old_tmp = cache_file() + ".tmp.1.0", new_tmp = cache_file() + ".tmp.2.0";
    std::ofstream(old_tmp) << "left by a writer that died";
    std::ofstream(new_tmp) << "a writer still at work";
    fs::last_write_time(old_tmp, fs::file_time_type::clock::now() - std::chrono::hours(2));
    load();
    EXPECT_FALSE(fs::exists(old_tmp));
    EXPECT_TRUE(fs::exists(new_tmp));
    EXPECT_TRUE(load()->packed().from_cache());
}

TEST_F(RepackCache, ListClearAndPruneTheFiles) {
    load();
    const fs::path repacked = fs::path(params_.dir) / "repacked";
    // A store blob's file beside the path-named one of the private copy.
    const std::string blob = "sha256-" + std::string(64, 'a');
    fs::copy_file(cache_file(), repacked / (blob + ".packed"));
    std::vector<RepackCacheFileInfo> files = list_repack_cache(params_.dir);
    ASSERT_EQ(files.size(), 2u);
    EXPECT_EQ(files[1].name, blob);
    EXPECT_EQ(files[1].bytes, fs::file_size(cache_file()));

    // Pruning keeps files of blobs that exist and of models outside the store.
    EXPECT_EQ(prune_repack_cache(params_.dir, [](const std::string&) { return true; }), 0);
    std::string asked;
    EXPECT_EQ(prune_repack_cache(params_.dir,
                                 [&](const std::string& name) {
                                     asked = name;
                                     return false;
                                 }),
              1);
    EXPECT_EQ(asked, blob);
    EXPECT_TRUE(fs::exists(cache_file()));
    EXPECT_FALSE(fs::exists(repacked / (blob + ".packed")));

    EXPECT_EQ(clear_repack_cache(params_.dir), 1);
    EXPECT_TRUE(list_repack_cache(params_.dir).empty());
    EXPECT_EQ(clear_repack_cache((dir_ / "nowhere").string()), 0);
}

TEST(RepackCacheFile, RejectsOtherMatrices) {
    const fs::path path = fs::temp_directory_path() /
                          ("lokal-repack-cache-entries-" + std::to_string(::getpid()) + ".packed");
    std::vector<uint8_t> a(3000, 7), b(5000, 9);
    std::vector<PackedEntry> entries = {{DType::Q4_0, 8, 64, a.size(), a.data()},
                                        {DType::Q8_0, 16, 32, b.size(), b.data()}};
    std::string why;
    ASSERT_TRUE(write_repack_cache(path.string(), "model x", entries, &why)) << why;
    ThreadPool pool(2);
    auto f = RepackCacheFile::open(path.string(), "model x", entries, pool, &why);
    ASSERT_NE(f, nullptr) << why;
    EXPECT_EQ(std::memcmp(f->data(0), a.data(), a.size()), 0);
    EXPECT_EQ(std::memcmp(f->data(1), b.data(), b.size()), 0);
    EXPECT_EQ(RepackCacheFile::open(path.string(), "model y", entries, pool, &why), nullptr);
    EXPECT_FALSE(why.empty());
    auto other = entries;
    other[1].rows = 24;
    EXPECT_EQ(RepackCacheFile::open(path.string(), "model x", other, pool, &why), nullptr);
    other.pop_back();
    EXPECT_EQ(RepackCacheFile::open(path.string(), "model x", other, pool, &why), nullptr);
    fs::remove(path);
    EXPECT_EQ(RepackCacheFile::open(path.string(), "model x", entries, pool, &why), nullptr);
    EXPECT_TRUE(why.empty());  // no file: nothing to complain about
}

}  // namespace
}  // namespace lokal::model
