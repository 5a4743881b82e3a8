#include "rag/search.h"

#include <algorithm>
#include <cctype>
#include <iterator>
#include <map>
#include <string>

#include "base/error.h"
#include "rag/vector_index.h"

namespace lokal::rag {
namespace {

// Hybrid retrieval fuses the two lists' scores, not their ranks: each list's top kFusionDepth
// scores are min-max scaled to [0, 1] and summed with these weights (a chunk missing from a
// list gets 0 from it). On bench/rag_eval.json with MiniLM this beats reciprocal rank fusion,
// which gives a weak list's ranks as much say as a strong one's (see bench/rag_eval.py).
constexpr int kFusionDepth = 50;
constexpr double kBm25Weight = 0.6;

// English function words, left out of BM25 queries: each matches most chunks, so it only adds
// noise to the ranking (sorted, for binary_search).
constexpr std::string_view kStopWords[] = {
    "a",     "an",    "and",  "are",   "as",   "at",   "be",   "but",   "by",   "did",  "do",
    "does",  "for",   "from", "had",   "has",  "have", "he",   "her",   "him",  "his",  "how",
    "i",     "in",    "is",   "it",    "its",  "of",   "on",   "or",    "she",  "so",   "that",
    "the",   "their", "them", "they",  "this", "to",   "was",  "were",  "what", "when", "where",
    "which", "who",   "whom", "whose", "why",  "will", "with", "would", "you",  "your"};

// Scores scaled to [0, 1] over the list (all 1 when they are equal).
std::vector<double> min_max(const std::vector<std::pair<int64_t, double>>& list) {
    std::vector<double> out;
    if (list.empty()) return out;
    double lo = list[0].second, hi = list[0].second;
    for (const auto& [id, s] : list) {
        lo = std::min(lo, s);
        hi = std::max(hi, s);
    }
    for (const auto& [id, s] : list) out.push_back(hi > lo ? (s - lo) / (hi - lo) : 1.0);
    return out;
}

}  // namespace

SearchMode search_mode(std::string_view name) {
    if (name == "vector") return SearchMode::Vector;
    if (name == "bm25") return SearchMode::Bm25;
    if (name == "hybrid") return SearchMode::Hybrid;
    throw Error("--mode must be vector, bm25 or hybrid");
}

std::string fts_query(std::string_view text) {
    std::vector<std::string> words, content;
    std::string word;
    auto flush = [&] {
        if (word.empty()) return;
        std::string lower = word;
        for (char& c : lower) c = (char)std::tolower((unsigned char)c);
        if (!std::binary_search(std::begin(kStopWords), std::end(kStopWords), lower)) {
            content.push_back(word);
        }
        words.push_back(std::move(word));
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
    std::string out;
    for (const std::string& w : content.empty() ? words : content) {
        if (!out.empty()) out += " OR ";
        out += '"' + w + '"';
    }
    return out;
}

std::vector<Hit> search(KnowledgeBase& kb, const std::vector<float>& query_vector,
                        std::string_view query_text, int k, SearchMode mode,
                        const VectorIndexOptions& vectors) {
    if (k <= 0) return {};
    const int depth = mode == SearchMode::Hybrid ? std::max(k, kFusionDepth) : k;
    std::vector<std::pair<int64_t, double>> vec, lex;
    if (mode != SearchMode::Bm25) {
        if (query_vector.empty()) {
            throw Error("vector search needs a query vector", ErrorKind::Internal);
        }
        vec = nearest_chunks(kb, query_vector, depth, vectors);
    }
    if (mode != SearchMode::Vector) lex = kb.bm25(fts_query(query_text), depth);

    const std::vector<double> vec_scaled = min_max(vec), lex_scaled = min_max(lex);
    std::map<int64_t, Hit> hits;
    for (size_t i = 0; i < vec.size(); ++i) {
        Hit& h = hits[vec[i].first];
        h.vector_rank = (int)i + 1;
        h.score = mode == SearchMode::Vector ? vec[i].second
                                             : h.score + (1.0 - kBm25Weight) * vec_scaled[i];
    }
    for (size_t i = 0; i < lex.size(); ++i) {
        Hit& h = hits[lex[i].first];
        h.bm25_rank = (int)i + 1;
        h.score = mode == SearchMode::Bm25 ? lex[i].second : h.score + kBm25Weight * lex_scaled[i];
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
