#include "rag/extract.h"

#include <gtest/gtest.h>

namespace lokal::rag {
namespace {

TEST(Extract, KindsByName) {
    EXPECT_EQ(text_kind("notes.md"), TextKind::Markdown);
    EXPECT_EQ(text_kind("README.TXT"), TextKind::Prose);
    EXPECT_EQ(text_kind("main.cpp"), TextKind::Code);
    EXPECT_EQ(text_kind("Makefile"), TextKind::Code);
    EXPECT_EQ(text_kind("page.HTML"), TextKind::Html);
    EXPECT_EQ(text_kind("paper.pdf"), TextKind::Pdf);
    EXPECT_EQ(text_kind("photo.jpg"), TextKind::Unsupported);
    EXPECT_EQ(text_kind("noext"), TextKind::Unsupported);
}

TEST(Extract, BinaryMeansANulInTheFirst8KiB) {
    EXPECT_FALSE(looks_binary("plain text"));
    EXPECT_TRUE(looks_binary(std::string("ab\0cd", 5)));
    std::string late(9000, 'a');
    late[8500] = '\0';
    EXPECT_FALSE(looks_binary(late));
}

TEST(Extract, EntitiesDecodeToUtf8) {
    EXPECT_EQ(decode_entities("a &amp; b &lt;c&gt; &quot;q&quot; &#39;s&#x27;"), "a & b <c> \"q\" 's'");
    EXPECT_EQ(decode_entities("&#x263A; &eacute-not; &bogus; & alone"), "\xE2\x98\xBA &eacute-not; &bogus; & alone");
    EXPECT_EQ(decode_entities("&mdash;"), "\xE2\x80\x94");
}

TEST(Extract, HtmlLosesTagsScriptsAndStylesAndKeepsParagraphs) {
    const std::string html =
        "<!DOCTYPE html><html><head><title>T</title><style>p { color: red }</style></head>"
        "<body><script>var x = '<p>no</p>';</script><h1>Hello &amp; welcome</h1>"
        "<p>First   <b>bold</b> para.</p><!-- hidden --><p>Second<br>line</p>"
        "<SCRIPT type=x>alert(1)</SCRIPT></body></html>";
    // Block tags end lines; a closing block tag followed by an opening one leaves a blank line,
    // so paragraphs stay paragraphs for the chunker.
    EXPECT_EQ(html_to_text(html), "Hello & welcome\n\nFirst bold para.\n\nSecond\nline\n");
}

}  // namespace
}  // namespace lokal::rag
