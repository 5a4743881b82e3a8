#include "rag/pdf_text.h"

#include <climits>
#include <memory>
#include <mutex>

#include <poppler/cpp/poppler-document.h>
#include <poppler/cpp/poppler-global.h>
#include <poppler/cpp/poppler-page.h>

namespace lokal::rag {
namespace {

// poppler writes its parse errors to stderr; the indexer reports a bad PDF as one skip line.
void quiet_poppler() {
    static std::once_flag once;
    std::call_once(
        once, [] { poppler::set_debug_error_function([](const std::string&, void*) {}, nullptr); });
}

}  // namespace

std::optional<std::vector<std::string>> pdf_pages(std::string_view bytes) {
    quiet_poppler();
    if (bytes.size() > (size_t)INT_MAX) return std::nullopt;
    std::unique_ptr<poppler::document> doc(
        poppler::document::load_from_raw_data(bytes.data(), (int)bytes.size()));
    if (!doc || doc->is_locked()) return std::nullopt;
    std::vector<std::string> pages;
    for (int i = 0; i < doc->pages(); ++i) {
        std::unique_ptr<poppler::page> page(doc->create_page(i));
        std::string text;
        if (page) {
            const poppler::byte_array utf8 = page->text().to_utf8();
            text.assign(utf8.begin(), utf8.end());
        }
        // Poppler ends lines with "\n" but may use "\r\n" or form feeds; the chunker wants '\n'.
        std::string clean;
        clean.reserve(text.size());
        for (size_t j = 0; j < text.size(); ++j) {
            if (text[j] == '\r' && j + 1 < text.size() && text[j + 1] == '\n') continue;
            clean += text[j] == '\r' || text[j] == '\f' ? '\n' : text[j];
        }
        pages.push_back(std::move(clean));
    }
    return pages;
}

}  // namespace lokal::rag
