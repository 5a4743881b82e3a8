#include "rag/chunker.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

namespace lokal::rag {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
}

// Every chunk's text is exactly lines start..end of the document.
void expect_line_ranges_hold(const std::string& doc, const std::vector<Chunk>& chunks) {
    const std::vector<std::string> lines = lines_of(doc);
    for (const Chunk& c : chunks) {
        ASSERT_GE(c.start_line, 1);
        ASSERT_LE(c.start_line, c.end_line);
        ASSERT_LE(c.end_line, (int)lines.size());
        std::string expect;
        for (int i = c.start_line; i <= c.end_line; ++i) {
            if (i > c.start_line) expect += '\n';
            expect += lines[i - 1];
        }
        EXPECT_EQ(c.text, expect) << "lines " << c.start_line << "-" << c.end_line;
    }
}

TEST(Chunker, MarkdownHeadingsStartNewChunks) {
    const std::string doc =
        "# Title\nintro line\n\n## Install\nrun setup\n\nthen build\n## Use\nrun it\n";
    const auto chunks = chunk_text(doc, TextKind::Markdown, {1000, 2});
    ASSERT_EQ(chunks.size(), 3u);
    EXPECT_EQ(chunks[0].start_line, 1);
    EXPECT_EQ(chunks[0].end_line, 2);
    EXPECT_EQ(chunks[1].start_line, 4);
    EXPECT_EQ(chunks[1].end_line, 7);
    EXPECT_EQ(chunks[2].start_line, 8);
    EXPECT_EQ(chunks[2].end_line, 9);
    expect_line_ranges_hold(doc, chunks);
}

TEST(Chunker, HashLinesInsideAFenceAreNotHeadings) {
    const std::string doc = "# A\ntext\n```\n# not a heading\n\ncode\n```\n";
    const auto chunks = chunk_text(doc, TextKind::Markdown, {1000, 2});
    ASSERT_EQ(chunks.size(), 1u);
    EXPECT_EQ(chunks[0].end_line, 7);
}

TEST(Chunker, ParagraphsArePackedUpToTheLimitWithOverlap) {
    std::string doc;
    for (int p = 0; p < 20; ++p) {
        for (int l = 0; l < 3; ++l) doc += "paragraph " + std::to_string(p) + " line " + std::to_string(l) + "\n";
        doc += "\n";
    }
    const ChunkOptions opt{200, 1};
    const auto chunks = chunk_text(doc, TextKind::Prose, opt);
    ASSERT_GT(chunks.size(), 3u);
    expect_line_ranges_hold(doc, chunks);
    for (size_t i = 0; i < chunks.size(); ++i) {
        EXPECT_LE(chunks[i].text.size() + 1, opt.max_chars);
        if (i > 0) {
            // One line of overlap: each chunk starts at the previous one's last line.
            EXPECT_EQ(chunks[i].start_line, chunks[i - 1].end_line);
        }
    }
    EXPECT_EQ(chunks.front().start_line, 1);
    EXPECT_EQ(chunks.back().end_line, 79);  // the last non-blank line
}

TEST(Chunker, ALongBlockIsCutAtLineEnds) {
    std::string doc;
    for (int l = 0; l < 100; ++l) doc += "int value_" + std::to_string(l) + " = " + std::to_string(l) + ";\n";
    const auto chunks = chunk_text(doc, TextKind::Code, {300, 2});
    ASSERT_GT(chunks.size(), 5u);
    expect_line_ranges_hold(doc, chunks);
    for (size_t i = 1; i < chunks.size(); ++i) {
        EXPECT_EQ(chunks[i].start_line, chunks[i - 1].end_line - 1);
    }
    EXPECT_EQ(chunks.back().end_line, 100);
}

TEST(Chunker, EmptyAndBlankDocumentsHaveNoChunks) {
    EXPECT_TRUE(chunk_text("", TextKind::Prose).empty());
    EXPECT_TRUE(chunk_text("\n\n  \n", TextKind::Prose).empty());
}

}  // namespace
}  // namespace lokal::rag
