// The text of a PDF, page by page (poppler-cpp, Debian libpoppler-cpp-dev), for the RAG indexer:
// PDF chunks carry their page, so citations read [file.pdf:p3:5-9].
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lokal::rag {

// One string per page (UTF-8, lines as poppler lays them out); nullopt when the bytes are not a
// PDF poppler can open (damaged, not a PDF at all, or locked by a password).
std::optional<std::vector<std::string>> pdf_pages(std::string_view bytes);

}  // namespace lokal::rag
