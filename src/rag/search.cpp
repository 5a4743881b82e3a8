#include "rag/search.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "base/error.h"
#include "rag/vector_index.h"

namespace lokal::rag {
namespace {

constexpr double kRrfK = 60.0;  // the constant of Cormack et al.'s reciprocal rank fusion

}  // namespace

SearchMode search_mode(std::string_view name) {
    if (name == "vector") return SearchMode::Vector;
    if (name == "bm25") return SearchMode::Bm25;
    if (name == "hybrid") return SearchMode::Hybrid;
    throw Error("--mode must be vector, bm25 or hybrid");
}

std::string fts_query(std::string_view text) {
    std::string out;
    std::string word;
    auto flush = [&] {
        if (word.empty()) return;
        if (!out.empty()) out += " OR ";
        out += '"' + word + '"';
        word.clear();
    };
    for (char c : text) {
        // Bytes >= 0x80 belong to UTF-8 letters; FTS5's unicode61 tokenizer splits those itself.
        if (std::isalnum((unsigned char)c) != 0 || (unsigned char)c >= 0x80) {
            word += c;
        } else {
            flush();
        }
    }
    flush();
    return out;
}

std::vector<Hit> search(KnowledgeBase& kb, const std::vector<float>& query_vector,
                        std::string_view query_text, int k, SearchMode mode,
                        const VectorIndexOptions& vectors) {
    if (k <= 0) return {};
    // Fusion needs more than k candidates from each list.
    const int depth = mode == SearchMode::Hybrid ? std::max(k * 4, 50) : k;
    std::vector<std::pair<int64_t, double>> vec, lex;
    if (mode != SearchMode::Bm25) {
        if (query_vector.empty()) throw Error("vector search needs a query vector", ErrorKind::Internal);
        vec = nearest_chunks(kb, query_vector, depth, vectors);
    }
    if (mode != SearchMode::Vector) lex = kb.bm25(fts_query(query_text), depth);

    std::map<int64_t, Hit> hits;
    for (size_t i = 0; i < vec.size(); ++i) {
        Hit& h = hits[vec[i].first];
        h.vector_rank = (int)i + 1;
        h.score = mode == SearchMode::Vector ? vec[i].second : h.score + 1.0 / (kRrfK + (double)i + 1);
    }
    for (size_t i = 0; i < lex.size(); ++i) {
        Hit& h = hits[lex[i].first];
        h.bm25_rank = (int)i + 1;
        h.score = mode == SearchMode::Bm25 ? lex[i].second : h.score + 1.0 / (kRrfK + (double)i + 1);
    }
    std::vector<std::pair<int64_t, Hit>> ranked(hits.begin(), hits.end());
    std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
        if (a.second.score != b.second.score) return a.second.score > b.second.score;
        return a.first < b.first;
    });
    if ((int)ranked.size() > k) ranked.resize(k);
    std::vector<Hit> out;
    for (auto& [id, h] : ranked) {
        h.chunk = kb.chunk(id);
        out.push_back(std::move(h));
    }
    return out;
}

}  // namespace lokal::rag
