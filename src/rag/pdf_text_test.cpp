#include "rag/pdf_text.h"

#include <gtest/gtest.h>

#include "rag/minimal_pdf.h"

namespace lokal::rag {
namespace {

TEST(PdfText, ReadsEachPageItsLinesInOrder) {
    const std::string pdf = testing_pdf::minimal_pdf(
        {{"The walrus keeps a ledger.", "It balances on Tuesdays."}, {"Page two speaks of owls."}});
    const auto pages = pdf_pages(pdf);
    ASSERT_TRUE(pages.has_value());
    ASSERT_EQ(pages->size(), 2u);
    const std::string& first = (*pages)[0];
    const size_t a = first.find("The walrus keeps a ledger.");
    const size_t b = first.find("It balances on Tuesdays.");
    ASSERT_NE(a, std::string::npos) << first;
    ASSERT_NE(b, std::string::npos) << first;
    EXPECT_LT(a, b);
    EXPECT_NE(first.substr(a, b - a).find('\n'), std::string::npos) << "one line per text line";
    EXPECT_NE((*pages)[1].find("Page two speaks of owls."), std::string::npos) << (*pages)[1];
    EXPECT_EQ((*pages)[1].find("walrus"), std::string::npos);
}

TEST(PdfText, NotAPdfIsNullopt) {
    EXPECT_FALSE(pdf_pages("%PDF-1.4\nthis is not really a pdf at all\n").has_value());
    EXPECT_FALSE(pdf_pages("").has_value());
    EXPECT_FALSE(pdf_pages(std::string(1000, '\0')).has_value());
}

}  // namespace
}  // namespace lokal::rag
