// Tests only: a small valid PDF written by hand (PDF 1.4, one Helvetica text object per page,
// a correct cross-reference table), so the PDF tests need no binary fixture.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

namespace lokal::rag::testing_pdf {

// Each page shows its lines top to bottom. Lines must not contain '(', ')' or '\'.
inline std::string minimal_pdf(const std::vector<std::vector<std::string>>& pages) {
    const int n = (int)pages.size();
    // Objects: 1 catalog, 2 page tree, 3 font, then per page i: 4 + 2i page, 5 + 2i contents.
    std::vector<std::string> objs(3 + 2 * (size_t)n);
    std::string kids;
    for (int i = 0; i < n; ++i) kids += std::to_string(4 + 2 * i) + " 0 R ";
    objs[0] = "<< /Type /Catalog /Pages 2 0 R >>";
    objs[1] = "<< /Type /Pages /Kids [" + kids + "] /Count " + std::to_string(n) + " >>";
    objs[2] = "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>";
    for (int i = 0; i < n; ++i) {
        std::string content = "BT /F1 12 Tf 72 720 Td 14 TL\n";
        for (const std::string& line : pages[(size_t)i]) content += "(" + line + ") Tj T*\n";
        content += "ET\n";
        objs[3 + 2 * (size_t)i] =
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            "/Resources << /Font << /F1 3 0 R >> >> /Contents " +
            std::to_string(5 + 2 * i) + " 0 R >>";
        objs[4 + 2 * (size_t)i] = "<< /Length " + std::to_string(content.size()) + " >>\nstream\n" +
                                  content + "endstream";
    }
    std::string pdf = "%PDF-1.4\n";
    std::vector<size_t> offsets;
    for (size_t i = 0; i < objs.size(); ++i) {
        offsets.push_back(pdf.size());
        pdf += std::to_string(i + 1) + " 0 obj\n" + objs[i] + "\nendobj\n";
    }
    const size_t xref = pdf.size();
    pdf += "xref\n0 " + std::to_string(objs.size() + 1) + "\n0000000000 65535 f \n";
    char entry[32];
    for (size_t off : offsets) {
        std::snprintf(entry, sizeof entry, "%010zu 00000 n \n", off);
        pdf += entry;
    }
    pdf += "trailer\n<< /Size " + std::to_string(objs.size() + 1) + " /Root 1 0 R >>\nstartxref\n" +
           std::to_string(xref) + "\n%%EOF\n";
    return pdf;
}

}  // namespace lokal::rag::testing_pdf
