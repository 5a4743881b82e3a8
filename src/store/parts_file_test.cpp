#include "store/parts_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

namespace lokal::store {
namespace {

TEST(PartsPlan, SplitsEvenlyLastShorter) {
    PartsPlan p = plan_parts(10, 4);
    ASSERT_EQ(p.parts.size(), 4u);
    EXPECT_EQ(p.parts[0].start, 0u);
    EXPECT_EQ(p.parts[0].end, 3u);
    EXPECT_EQ(p.parts[3].start, 9u);
    EXPECT_EQ(p.parts[3].end, 10u);
    EXPECT_EQ(plan_parts(3, 8).parts.size(), 3u);  // at most one part per byte
    EXPECT_LE(plan_parts(1000, 1000).parts.size(), static_cast<size_t>(kMaxParts));
    EXPECT_FALSE(plan_parts(100, 4).finished());
}

TEST(PartsPlan, RoundTrip) {
    PartsPlan p = plan_parts(1000, 3);
    p.parts[0].done = 334;
    p.parts[1].done = 17;
    std::string text = format_parts(p);
    EXPECT_EQ(text, "lokal-parts 1\nsize 1000\npart 0 334 334\npart 334 668 17\npart 668 1000 0\n");
    auto q = parse_parts(text, 1000);
    ASSERT_TRUE(q);
    ASSERT_EQ(q->parts.size(), 3u);
    EXPECT_EQ(q->parts[1].done, 17u);
    EXPECT_EQ(q->done_bytes(), 351u);
    EXPECT_TRUE(q->parts[0].finished());
}

TEST(PartsPlan, RejectsCorrupt) {
    const std::string good = "lokal-parts 1\nsize 10\npart 0 5 5\npart 5 10 0\n";
    ASSERT_TRUE(parse_parts(good, 10));
    EXPECT_FALSE(parse_parts(good, 11));  // other blob size
    EXPECT_FALSE(parse_parts("", 10));
    EXPECT_FALSE(parse_parts(good.substr(0, good.size() - 1), 10));          // torn write
    EXPECT_FALSE(parse_parts("lokal-parts 2\nsize 10\npart 0 10 0\n", 10));  // version
    EXPECT_FALSE(parse_parts("lokal-parts 1\nsize 10\n", 10));               // no parts
    EXPECT_FALSE(parse_parts("lokal-parts 1\nsize 10\npart 0 5 5\n", 10));   // gap at end
    EXPECT_FALSE(parse_parts("lokal-parts 1\nsize 10\npart 1 10 0\n", 10));  // gap at start
    EXPECT_FALSE(parse_parts("lokal-parts 1\nsize 10\npart 0 6 0\npart 5 10 0\n", 10));  // overlap
    EXPECT_FALSE(parse_parts("lokal-parts 1\nsize 10\npart 0 5 6\npart 5 10 0\n", 10));  // done
    EXPECT_FALSE(parse_parts("lokal-parts 1\nsize 10\npart 0 0 0\npart 0 10 0\n", 10));  // empty
    EXPECT_FALSE(parse_parts("lokal-parts 1\nsize 10\npart 0 10 -1\n", 10));
    EXPECT_FALSE(parse_parts("lokal-parts 1\nsize 10\npart 0 10 0 \n", 10));
    EXPECT_FALSE(parse_parts("lokal-parts 1\nsize 10\npart  0 10 0\n", 10));
    EXPECT_FALSE(parse_parts("lokal-parts 1\nsize 10\npart 0 99999999999999999999999 0\n", 10));
    EXPECT_FALSE(parse_parts("lokal-parts 1\nsize 10\npart 0 10 0\n\n", 10));
    EXPECT_FALSE(parse_parts(std::string("lokal-parts 1\nsize 10\npart 0 10 0\0\n", 30), 10));
}

TEST(PartsFile, AtomicWriteReadRemove) {
    std::string dir = testing::TempDir();
    std::filesystem::path partial = dir + "/parts-file-test-" + std::to_string(::getpid());
    auto side = parts_path(partial);
    EXPECT_EQ(side.string(), partial.string() + ".parts");
    EXPECT_FALSE(read_parts_file(side, 100));  // missing
    PartsPlan p = plan_parts(100, 4);
    p.parts[2].done = 5;
    write_parts_file(side, p);
    auto q = read_parts_file(side, 100);
    ASSERT_TRUE(q);
    EXPECT_EQ(q->parts[2].done, 5u);
    EXPECT_FALSE(std::filesystem::exists(side.string() + ".tmp"));
    { std::ofstream(side, std::ios::trunc) << "garbage"; }
    EXPECT_FALSE(read_parts_file(side, 100));  // corrupt: the caller starts over
    remove_parts_file(side);
    EXPECT_FALSE(std::filesystem::exists(side));
}

}  // namespace
}  // namespace lokal::store
