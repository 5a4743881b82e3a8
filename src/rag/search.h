// Retrieval from a knowledge base: cosine over the chunks' vectors (vector_index.h: an exact scan,
// or an HNSW graph for large bases), BM25 over SQLite FTS5, or both, fused by their min-max scaled
// scores (0.4 * cosine + 0.6 * BM25 over each list's top 50).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "rag/knowledge_base.h"
#include "rag/vector_index.h"

namespace lokal::rag {

enum class SearchMode { Vector, Bm25, Hybrid };

// "vector", "bm25" or "hybrid"; throws lokal::Error otherwise.
SearchMode search_mode(std::string_view name);

struct Hit {
    ChunkRow chunk;
    double score = 0;     // cosine, BM25 (higher is better) or the fused score in [0, 1], by mode
    int vector_rank = 0;  // 1-based place in each list; 0: not in it
    int bm25_rank = 0;
};

// An FTS5 query matching any of the text's words (each quoted, so no word is an operator),
// English function words (the, of, what, ...) left out unless the text has no other words.
std::string fts_query(std::string_view text);

// The k best chunks. query_vector may be empty for Bm25.
std::vector<Hit> search(KnowledgeBase& kb, const std::vector<float>& query_vector,
                        std::string_view query_text, int k, SearchMode mode,
                        const VectorIndexOptions& vectors = {});

}  // namespace lokal::rag
