// Nearest chunks by cosine. Small knowledge bases are scanned exactly; from min_chunks on, an
// HNSW graph (hnswlib) answers instead. The graph lives beside the knowledge base (a file of its
// own) and is tagged in the base's meta with the (chunk count, largest chunk id) it was built
// from; chunk ids only grow (AUTOINCREMENT), so a tag that differs means the graph is stale, and
// a stale or missing graph falls back to the exact scan until rebuild() runs.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "rag/knowledge_base.h"

namespace lokal::rag {

struct VectorIndexOptions {
    std::string graph_file;        // empty: always scan
    int64_t min_chunks = 20000;    // below this the exact scan is fast enough (~0.1 s)
};

// (chunk id, cosine), best first, at most `limit`.
std::vector<std::pair<int64_t, double>> nearest_chunks(KnowledgeBase& kb,
                                                       const std::vector<float>& query, int limit,
                                                       const VectorIndexOptions& options);

// The exact answer (a full scan).
std::vector<std::pair<int64_t, double>> scan_nearest(KnowledgeBase& kb,
                                                     const std::vector<float>& query, int limit);

// Builds the graph of every vector and saves it (atomically: a temporary file renamed); removes
// it when the base is under min_chunks. Returns whether a graph was written.
bool rebuild_vector_index(KnowledgeBase& kb, const VectorIndexOptions& options);

}  // namespace lokal::rag
