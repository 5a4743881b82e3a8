#include "tokenizer/unicode.h"

#include <gtest/gtest.h>

namespace lokal::tokenizer {
namespace {

TEST(Unicode, DecodeEncodeRoundTrip) {
    const std::string s = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\xA6\x99";  // a é € 🦙
    const std::vector<uint32_t> cpts = utf8_to_cpts(s);
    EXPECT_EQ(cpts, (std::vector<uint32_t>{'a', 0xE9, 0x20AC, 0x1F999}));
    std::string back;
    for (uint32_t c : cpts) utf8_append(back, c);
    EXPECT_EQ(back, s);
}

TEST(Unicode, InvalidBytesBecomeReplacementCharacters) {
    EXPECT_EQ(utf8_to_cpts("\xFF"
                           "a"),
              (std::vector<uint32_t>{kReplacementChar, 'a'}));
    EXPECT_EQ(utf8_to_cpts("\xE2\x82"),
              (std::vector<uint32_t>{kReplacementChar, kReplacementChar}));
    EXPECT_EQ(utf8_to_cpts("\xC3"
                           "a"),
              (std::vector<uint32_t>{kReplacementChar, 'a'}));
}

TEST(Unicode, CompletePrefixHoldsBackAnUnfinishedCharacter) {
    EXPECT_EQ(utf8_complete_prefix("ab"), 2u);
    EXPECT_EQ(utf8_complete_prefix("a\xF0\x9F\xA6"), 1u);
    EXPECT_EQ(utf8_complete_prefix("a\xF0\x9F\xA6\x99"), 5u);
    EXPECT_EQ(utf8_complete_prefix("a\xC3"), 1u);
    EXPECT_EQ(utf8_complete_prefix("\x80\x80"), 2u);  // stray continuation bytes are not held
}

TEST(Unicode, Gpt2ByteMapIsABijection) {
    EXPECT_EQ(byte_to_unicode(' '), "\xC4\xA0");   // Ġ
    EXPECT_EQ(byte_to_unicode('\n'), "\xC4\x8A");  // Ċ
    EXPECT_EQ(byte_to_unicode('a'), "a");
    for (int b = 0; b < 256; ++b) {
        const std::vector<uint32_t> c = utf8_to_cpts(byte_to_unicode(static_cast<uint8_t>(b)));
        ASSERT_EQ(c.size(), 1u);
        EXPECT_EQ(unicode_to_byte(c[0]), b);
    }
    EXPECT_EQ(unicode_to_byte(0x4E00), -1);
}

TEST(Unicode, ClassesCaseAndAccents) {
    EXPECT_EQ(char_class(','), CharClass::Punctuation);
    EXPECT_EQ(char_class('$'), CharClass::Symbol);
    EXPECT_EQ(char_class(0x0301), CharClass::AccentMark);   // combining acute
    EXPECT_EQ(char_class(0x3002), CharClass::Punctuation);  // 。
    EXPECT_EQ(char_class(0x200D), CharClass::Control);      // zero width joiner (Cf)
    EXPECT_EQ(char_class(0x4E00), CharClass::Other);
    EXPECT_TRUE(is_whitespace(0x3000));
    EXPECT_FALSE(is_whitespace(0x200B));
    EXPECT_EQ(to_lower('A'), uint32_t('a'));
    EXPECT_EQ(to_lower(0x0411), 0x0431u);        // Б -> б
    EXPECT_EQ(nfd_base(0xE9), uint32_t('e'));    // é
    EXPECT_EQ(nfd_base(0x1EED), uint32_t('u'));  // ử
    EXPECT_EQ(nfd_base('x'), uint32_t('x'));
}

}  // namespace
}  // namespace lokal::tokenizer
