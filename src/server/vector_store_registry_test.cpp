// Vector stores and uploaded files on disk, with a word-hashing embedder standing in for a model.
#include "server/vector_store_registry.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <functional>

#include "base/error.h"
#include "server/file_store.h"

namespace lokal::server {
namespace {

namespace fs = std::filesystem;

// Each word adds to one of 64 components: texts sharing words point the same way.
class WordEmbedder : public rag::Embedder {
  public:
    std::vector<std::vector<float>> embed(const std::vector<std::string>& texts) override {
        std::vector<std::vector<float>> out;
        for (const std::string& t : texts) {
            std::vector<float> v(64, 0.0f);
            std::string word;
            for (char c : t + " ") {
                if (std::isalpha((unsigned char)c)) {
                    word += (char)std::tolower((unsigned char)c);
                } else if (!word.empty()) {
                    v[std::hash<std::string>{}(word) % 64] += 1;
                    word.clear();
                }
            }
            double n = 0;
            for (float x : v) n += x * x;
            for (float& x : v) x = n > 0 ? (float)(x / std::sqrt(n)) : 0.0f;
            out.push_back(v);
        }
        return out;
    }
};

class VectorStoreRegistryTest : public testing::Test {
  protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() /
               ("lokal-vs-test-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
                "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }
    fs::path dir_;
    WordEmbedder embedder_;
};

TEST_F(VectorStoreRegistryTest, FilesPersistAndAreRemoved) {
    FileStore files(dir_ / "files");
    const UploadedFile f = files.add("a.txt", "assistants", "hello");
    EXPECT_TRUE(is_file_id(f.id));
    FileStore again(dir_ / "files");  // as after a restart
    ASSERT_TRUE(again.get(f.id));
    EXPECT_EQ(again.get(f.id)->filename, "a.txt");
    EXPECT_EQ(again.content(f.id), "hello");
    EXPECT_EQ(again.list().size(), 1u);
    EXPECT_FALSE(again.get("file-../../etc"));
    EXPECT_TRUE(again.remove(f.id));
    EXPECT_FALSE(again.get(f.id));
    EXPECT_FALSE(again.remove(f.id));
}

TEST_F(VectorStoreRegistryTest, SearchFindsTheFileAndForgetsItWhenRemoved) {
    VectorStoreRegistry stores(dir_ / "vs");
    const VectorStoreInfo vs = stores.create("docs", "m", nlohmann::ordered_json::object());
    const UploadedFile zep{"file-01", "zep.md", "assistants", 0, 0};
    const UploadedFile bread{"file-02", "bread.txt", "assistants", 0, 0};
    const std::string zep_text = "# Travel\n\nThe purple zeppelin docked at the harbour.\n";
    EXPECT_EQ(stores.add_file(vs.id, zep, zep_text, embedder_).status, "completed");
    EXPECT_EQ(stores.add_file(vs.id, bread, "Knead the bread dough.\n", embedder_).status,
              "completed");
    const std::string q = "purple zeppelin";
    StoreHits hits = stores.search(vs.id, q, embedder_.embed({q})[0], 5);
    ASSERT_FALSE(hits.results.empty());
    EXPECT_EQ(hits.results[0].file_id, "file-01");
    EXPECT_EQ(hits.results[0].filename, "zep.md");
    EXPECT_EQ(hits.hits[0].chunk.path, "zep.md");  // prompts cite the file's name
    EXPECT_GT(hits.results[0].score, 0);
    EXPECT_LE(hits.results[0].score, 1.0 + 1e-9);

    EXPECT_TRUE(stores.remove_file(vs.id, "file-01"));
    EXPECT_FALSE(stores.remove_file(vs.id, "file-01"));
    hits = stores.search(vs.id, q, embedder_.embed({q})[0], 5);
    for (const SearchResult& r : hits.results) EXPECT_NE(r.file_id, "file-01");
    EXPECT_EQ(stores.get(vs.id)->files.size(), 1u);
}

TEST_F(VectorStoreRegistryTest, UnreadableFilesFailWithTheReason) {
    VectorStoreRegistry stores(dir_ / "vs");
    const VectorStoreInfo vs = stores.create("docs", "m", nlohmann::ordered_json::object());
    const VectorStoreFile bin = stores.add_file(
        vs.id, {"file-03", "x.dat", "assistants", 0, 0}, std::string("a\0b", 3), embedder_);
    EXPECT_EQ(bin.status, "failed");
    EXPECT_NE(bin.last_error.find("binary"), std::string::npos);
    const VectorStoreFile pdf =
        stores.add_file(vs.id, {"file-04", "x.pdf", "assistants", 0, 0}, "%PDF", embedder_);
    EXPECT_EQ(pdf.status, "failed");
    EXPECT_EQ(stores.get(vs.id)->files.size(), 2u);
}

TEST_F(VectorStoreRegistryTest, StoresPersistRenameAndDelete) {
    const std::string id = [&] {
        VectorStoreRegistry stores(dir_ / "vs");
        return stores.create("docs", "m", nlohmann::ordered_json::object()).id;
    }();
    VectorStoreRegistry stores(dir_ / "vs");
    ASSERT_TRUE(stores.get(id));
    EXPECT_EQ(stores.get(id)->embedding_model, "m");
    EXPECT_TRUE(stores.update(id, std::string("renamed"), std::nullopt));
    EXPECT_EQ(stores.list().at(0).name, "renamed");
    EXPECT_TRUE(stores.remove(id));
    EXPECT_FALSE(stores.get(id));
    EXPECT_FALSE(fs::exists(dir_ / "vs" / (id + ".sqlite")));
    EXPECT_THROW(stores.search(id, "q", {}, 3), Error);
    EXPECT_FALSE(stores.get("vs_../../x"));
}

}  // namespace
}  // namespace lokal::server
