#include "rag/indexer.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <string>

#include "rag/minimal_pdf.h"
#include "rag/rag_prompt.h"
#include "rag/search.h"

namespace lokal::rag {
namespace {
namespace fs = std::filesystem;

// Bag of hashed words, normalised: texts sharing words get close vectors. Records what it saw.
class FakeEmbedder : public Embedder {
  public:
    std::vector<std::vector<float>> embed(const std::vector<std::string>& texts) override {
        std::vector<std::vector<float>> out;
        for (const std::string& t : texts) {
            seen.push_back(t);
            std::vector<float> v(64, 0.0f);
            std::string word;
            for (char c : t + " ") {
                if (std::isalnum((unsigned char)c) != 0) {
                    word += (char)std::tolower((unsigned char)c);
                } else if (!word.empty()) {
                    v[std::hash<std::string>{}(word) % v.size()] += 1.0f;
                    word.clear();
                }
            }
            float n = 0;
            for (float x : v) n += x * x;
            n = n > 0 ? std::sqrt(n) : 1.0f;
            for (float& x : v) x /= n;
            out.push_back(std::move(v));
        }
        return out;
    }
    std::vector<std::string> seen;
};

class IndexerTest : public testing::Test {
  protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() /
               ("lokal-rag-test-" + std::to_string(::getpid()) + "-" +
                testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_ / "docs");
        db_ = (dir_.string() + ".sqlite");
        fs::remove(db_);
    }
    void TearDown() override {
        fs::remove_all(dir_);
        for (const char* s : {"", "-wal", "-shm"}) fs::remove(db_ + s);
    }
    void write(const std::string& rel, const std::string& content) {
        fs::create_directories((dir_ / rel).parent_path());
        std::ofstream(dir_ / rel, std::ios::binary) << content;
    }
    std::set<std::string> paths(KnowledgeBase& kb) {
        std::set<std::string> out;
        for (const auto& f : kb.files()) out.insert(f.path);
        return out;
    }
    fs::path dir_;
    std::string db_;
};

TEST_F(IndexerTest, ReindexEmbedsOnlyTheChangedFileAndDropsDeletedOnes) {
    write("docs/cats.md", "# Cats\nCats purr and sleep all day.\n");
    write("docs/dogs.txt", "Dogs bark at the mailman.\n");
    write("src/code.py", "def add(a, b):\n    return a + b\n");
    KnowledgeBase kb(db_);
    FakeEmbedder e1;
    IndexStats s1 = index_folder(kb, dir_, e1);
    EXPECT_EQ(s1.files_indexed, 3u);
    EXPECT_EQ(e1.seen.size(), 3u);
    EXPECT_EQ(kb.chunk_count(), 3);

    // Nothing changed: nothing embedded.
    FakeEmbedder e2;
    IndexStats s2 = index_folder(kb, dir_, e2);
    EXPECT_EQ(s2.files_indexed, 0u);
    EXPECT_EQ(s2.files_unchanged, 3u);
    EXPECT_TRUE(e2.seen.empty());

    // Touch one file's content and delete another: only that file is embedded again.
    write("docs/dogs.txt", "Dogs bark at the postman, loudly.\n");
    fs::remove(dir_ / "src/code.py");
    FakeEmbedder e3;
    IndexStats s3 = index_folder(kb, dir_, e3);
    EXPECT_EQ(s3.files_indexed, 1u);
    EXPECT_EQ(s3.files_removed, 1u);
    ASSERT_EQ(e3.seen.size(), 1u);
    EXPECT_EQ(e3.seen[0], "Dogs bark at the postman, loudly.");
    EXPECT_EQ(paths(kb), (std::set<std::string>{"docs/cats.md", "docs/dogs.txt"}));
    EXPECT_EQ(kb.chunk_count(), 2);
    // The deleted file's text is gone from the full-text index too.
    EXPECT_TRUE(kb.bm25(fts_query("return"), 10).empty());
    EXPECT_EQ(kb.bm25(fts_query("postman"), 10).size(), 1u);
    EXPECT_TRUE(kb.bm25(fts_query("mailman"), 10).empty());

    // A new mtime with the same bytes: hashed, not embedded.
    const auto t = fs::last_write_time(dir_ / "docs/cats.md");
    fs::last_write_time(dir_ / "docs/cats.md", t + std::chrono::seconds(5));
    FakeEmbedder e4;
    IndexStats s4 = index_folder(kb, dir_, e4);
    EXPECT_EQ(s4.files_unchanged, 2u);
    EXPECT_TRUE(e4.seen.empty());
}

TEST_F(IndexerTest, HostileFilesAreSkippedWithAReason) {
    write("good.md", "good text\n");
    write("blob.txt", std::string("bin\0ary", 7));
    write("fake.pdf", "not a pdf at all");
    write("big.txt", std::string(2 << 20, 'x'));
    fs::create_directory_symlink(dir_, dir_ / "docs" / "loop");
    fs::create_symlink(dir_ / "missing", dir_ / "dangling.txt");
    KnowledgeBase kb(db_);
    FakeEmbedder e;
    IndexOptions o;
    o.walk.max_file_bytes = 1 << 20;
    const IndexStats s = index_folder(kb, dir_, e, o);
    std::map<std::string, std::string> why;
    for (const Skip& sk : s.skipped) why[sk.path] = sk.reason;
    EXPECT_NE(why["blob.txt"].find("binary"), std::string::npos);
    EXPECT_NE(why["fake.pdf"].find("PDF"), std::string::npos);
    EXPECT_NE(why["big.txt"].find("larger"), std::string::npos);
    EXPECT_NE(why["docs/loop"].find("loop"), std::string::npos);
    EXPECT_NE(why["dangling.txt"].find("symlink"), std::string::npos);
    EXPECT_EQ(paths(kb), (std::set<std::string>{"good.md"}));
}

TEST_F(IndexerTest, PdfChunksCiteTheirPage) {
    write("manual.pdf", testing_pdf::minimal_pdf({{"Intro to the kettle."},
                                                  {"Descale the kettle with vinegar monthly.",
                                                   "Rinse twice afterwards."}}));
    KnowledgeBase kb(db_);
    FakeEmbedder e;
    const IndexStats s = index_folder(kb, dir_, e);
    EXPECT_TRUE(s.skipped.empty());
    EXPECT_EQ(kb.chunk_count(), 2) << "one chunk per page: chunks never span pages";
    const auto hits = kb.bm25(fts_query("vinegar"), 5);
    ASSERT_EQ(hits.size(), 1u);
    const ChunkRow c = kb.chunk(hits[0].first);
    EXPECT_EQ(c.page, 2);
    EXPECT_EQ(c.start_line, 1);
    EXPECT_GE(c.end_line, 2);
    EXPECT_NE(c.text.find("Rinse twice afterwards."), std::string::npos);
    EXPECT_EQ(citation(c), "manual.pdf:p2:1-" + std::to_string(c.end_line));
}

TEST_F(IndexerTest, UnreadableFilesAreSkipped) {
    if (::geteuid() == 0) GTEST_SKIP() << "root reads every file";
    write("secret.txt", "hidden\n");
    write("open.txt", "visible\n");
    ::chmod((dir_ / "secret.txt").c_str(), 0);
    KnowledgeBase kb(db_);
    FakeEmbedder e;
    const IndexStats s = index_folder(kb, dir_, e);
    ASSERT_EQ(s.skipped.size(), 1u);
    EXPECT_EQ(s.skipped[0].path, "secret.txt");
    EXPECT_EQ(paths(kb), (std::set<std::string>{"open.txt"}));
}

TEST_F(IndexerTest, GitignoreAndHtmlExtraction) {
    write(".gitignore", "build/\n*.log\n!important.log\n");
    write("build/out.txt", "generated\n");
    write("x.log", "noise\n");
    write("important.log", "keep me\n");
    write("page.html", "<html><script>var secret=1;</script><p>Tom &amp; Jerry</p></html>");
    KnowledgeBase kb(db_);
    FakeEmbedder e;
    index_folder(kb, dir_, e);
    EXPECT_EQ(paths(kb), (std::set<std::string>{"important.log", "page.html"}));
    EXPECT_EQ(kb.bm25(fts_query("Jerry"), 5).size(), 1u);
    EXPECT_TRUE(kb.bm25(fts_query("secret"), 5).empty());
}

TEST_F(IndexerTest, SearchModesFindTheMatchingChunk) {
    write("a.txt", "The lighthouse keeper polished the great lamp every evening.\n");
    write("b.txt", "A recipe for bread: flour, water, salt and yeast.\n");
    write("c.txt", "Trains leave the central station every hour.\n");
    KnowledgeBase kb(db_);
    FakeEmbedder e;
    index_folder(kb, dir_, e);
    const std::string q = "when does the lighthouse keeper polish the lamp";
    const std::vector<float> qv = e.embed({q}).front();
    for (SearchMode m : {SearchMode::Vector, SearchMode::Bm25, SearchMode::Hybrid}) {
        const auto hits = search(kb, qv, q, 2, m);
        ASSERT_FALSE(hits.empty());
        EXPECT_EQ(hits[0].chunk.path, "a.txt");
        EXPECT_EQ(hits[0].chunk.start_line, 1);
    }
    // Both lists agree on a.txt: its fused score is the full 0.6 + 0.4; the others' are less.
    const auto fused = search(kb, qv, q, 3, SearchMode::Hybrid);
    EXPECT_DOUBLE_EQ(fused[0].score, 1.0);
    for (size_t i = 1; i < fused.size(); ++i) {
        EXPECT_GE(fused[i].score, 0.0);
        EXPECT_LT(fused[i].score, fused[i - 1].score + 1e-12);
    }
    // FTS5 operators and quotes in a query are plain words.
    EXPECT_NO_THROW(search(kb, qv, "NOT \"lamp\" AND (bread* OR", 3, SearchMode::Bm25));
}

TEST(FtsQuery, LeavesOutFunctionWordsUnlessNothingElseRemains) {
    EXPECT_EQ(fts_query("What did the keeper polish?"), "\"keeper\" OR \"polish\"");
    EXPECT_EQ(fts_query("Who is it"), "\"Who\" OR \"is\" OR \"it\"");
    EXPECT_EQ(fts_query("NOT \"lamp\" AND"), "\"NOT\" OR \"lamp\"");
    EXPECT_EQ(fts_query("  ?! "), "");
}

TEST_F(IndexerTest, AFailedEmbeddingLeavesTheIndexAsItWas) {
    write("a.txt", "alpha\n");
    KnowledgeBase kb(db_);
    FakeEmbedder e;
    index_folder(kb, dir_, e);
    struct Failing : Embedder {
        std::vector<std::vector<float>> embed(const std::vector<std::string>&) override {
            throw std::runtime_error("killed");
        }
    } failing;
    write("a.txt", "alpha changed\n");
    EXPECT_THROW(index_folder(kb, dir_, failing), std::runtime_error);
    ASSERT_EQ(kb.chunk_count(), 1);
    EXPECT_EQ(kb.chunk(kb.bm25(fts_query("alpha"), 1).at(0).first).text, "alpha");
    // The next run sees the change (the old hash is still stored) and embeds it.
    FakeEmbedder again;
    EXPECT_EQ(index_folder(kb, dir_, again).files_indexed, 1u);
}

}  // namespace
}  // namespace lokal::rag
