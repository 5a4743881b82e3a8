#include "server/model_manager.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "base/test_support.h"
#include "store/create.h"
#include "store/modelfile.h"
#include "store/store.h"

namespace lokal::server {
namespace {

namespace fs = std::filesystem;

constexpr const char* kStories = "models/stories260K.gguf";

// A private store ($LOKAL_MODELS) holding two models created FROM one GGUF with their own
// system prompts.
class ModelManagerTest : public ::testing::Test {
  protected:
    void SetUp() override {
        root_ = fs::temp_directory_path() / ("lokal-mm-test-" + std::to_string(::getpid()));
        fs::remove_all(root_);
        setenv("LOKAL_MODELS", root_.c_str(), 1);
    }
    void TearDown() override {
        unsetenv("LOKAL_MODELS");
        fs::remove_all(root_);
    }
    void create(const std::string& name, const std::string& modelfile) {
        store::Store s(root_);
        store::create_model(s, name, store::parse_modelfile(modelfile), fs::current_path(),
                            store::PathAccess::Allowed, [](const std::string&) {});
    }
    fs::path root_;
};

TEST_F(ModelManagerTest, OneLoadPerBlobEachNameKeepsItsOwnSystem) {
    LOKAL_REQUIRE_TESTDATA(kStories);
    const std::string gguf = testing::testdata_path(kStories);
    create("stories:260k", "FROM " + gguf + "\nSYSTEM first\n");
    create("other:x", "FROM " + gguf + "\nSYSTEM second\n");
    ModelManager mm(ServerModelParams{});
    auto a = mm.acquire("stories:260k", std::nullopt);
    auto b = mm.acquire("other:x", std::nullopt);
    EXPECT_EQ((*a)->model.get(), (*b)->model.get());  // the weights once
    EXPECT_EQ((*a)->scheduler.get(), (*b)->scheduler.get());
    EXPECT_EQ((*a)->prompt_format.system, "first");
    EXPECT_EQ((*b)->prompt_format.system, "second");
    // One model however it is named: the default tag, the namespace, any case.
    auto c = mm.acquire("Stories:260K", std::nullopt);
    auto d = mm.acquire("library/stories:260k", std::nullopt);
    EXPECT_EQ(&**c, &**a);
    EXPECT_EQ(&**d, &**a);
    create("plain", "FROM " + gguf + "\n");
    auto e = mm.acquire("plain", std::nullopt);
    auto f = mm.acquire("PLAIN:latest", std::nullopt);
    EXPECT_EQ(&**e, &**f);
    EXPECT_EQ((*e)->name, "plain:latest");
    EXPECT_EQ(mm.loaded().size(), 3u);
}

// LOKAL_MAX_LOADED_MODELS counts loaded files: names created FROM one GGUF are one load, and
// they are unloaded together, least recently used first.
TEST_F(ModelManagerTest, MaxLoadedCountsFilesNotNames) {
    constexpr const char* kOther = "models/tiny-llama-h64-q4_0.gguf";
    constexpr const char* kThird = "models/tiny-llama-h64-q8_0.gguf";
    LOKAL_REQUIRE_TESTDATA(kStories);
    LOKAL_REQUIRE_TESTDATA(kOther);
    LOKAL_REQUIRE_TESTDATA(kThird);
    create("a", "FROM " + testing::testdata_path(kStories) + "\nSYSTEM a\n");
    create("b", "FROM " + testing::testdata_path(kStories) + "\nSYSTEM b\n");
    create("other", "FROM " + testing::testdata_path(kOther) + "\n");
    create("third", "FROM " + testing::testdata_path(kThird) + "\n");
    ServerModelParams p;
    p.n_parallel = 1;
    p.n_ctx = 64;
    p.max_loaded = 2;
    ModelManager mm(p);
    auto names = [&mm] {
        std::vector<std::string> out;
        for (const LoadedInfo& i : mm.loaded()) out.push_back(i.name);
        std::sort(out.begin(), out.end());
        return out;
    };
    for (const char* name : {"a", "b", "other"}) mm.acquire(name, std::nullopt);
    EXPECT_EQ(names(), (std::vector<std::string>{"a:latest", "b:latest", "other:latest"}));
    // A third file makes room by unloading the least recently used one, with both its names.
    mm.acquire("third", std::nullopt);
    EXPECT_EQ(names(), (std::vector<std::string>{"other:latest", "third:latest"}));
    // A name in use keeps its file loaded: the idle one goes instead.
    auto busy = mm.acquire("other", std::nullopt);
    mm.acquire("a", std::nullopt);
    EXPECT_EQ(names(), (std::vector<std::string>{"a:latest", "other:latest"}));
}

TEST_F(ModelManagerTest, StoreNamesMatchIgnoringCase) {
    LOKAL_REQUIRE_TESTDATA(kStories);
    create("stories:260k", "FROM " + testing::testdata_path(kStories) + "\n");
    store::Store s(root_);
    ASSERT_TRUE(s.read_manifest(store::parse_ref("Stories:260K")));
    // A create under another case replaces the model, not a second copy beside it.
    create("STORIES:260k", "FROM " + testing::testdata_path(kStories) + "\nSYSTEM x\n");
    EXPECT_EQ(s.list().size(), 1u);
    EXPECT_EQ(s.list()[0].ref.display(), "stories:260k");
    EXPECT_TRUE(s.remove(store::parse_ref("STORIES:260K")));
    EXPECT_TRUE(s.list().empty());
}

}  // namespace
}  // namespace lokal::server
