#include "rag/vector_index.h"

#include <hnswlib/hnswlib.h>

#include <algorithm>
#include <filesystem>
#include <memory>

#include "base/error.h"

namespace lokal::rag {
namespace {

constexpr size_t kLinks = 16;             // HNSW's M: links per node
constexpr size_t kEfConstruction = 200;   // candidate list while building
constexpr size_t kMinEfSearch = 64;       // candidate list while searching (at least the limit)

std::string current_tag(KnowledgeBase& kb) {
    Statement st(kb.db().handle(), "SELECT count(*), coalesce(max(id), 0) FROM chunks");
    st.step();
    return std::to_string(st.int_at(0)) + ":" + std::to_string(st.int_at(1));
}

int dimension(KnowledgeBase& kb) {
    const auto d = kb.meta("dim");
    return d ? std::atoi(d->c_str()) : 0;
}

}  // namespace

std::vector<std::pair<int64_t, double>> scan_nearest(KnowledgeBase& kb,
                                                     const std::vector<float>& q, int limit) {
    std::vector<std::pair<int64_t, double>> all;
    kb.for_each_vector([&](int64_t id, std::span<const float> v) {
        if (v.size() != q.size()) return;
        double dot = 0;
        for (size_t i = 0; i < v.size(); ++i) dot += (double)v[i] * q[i];
        all.emplace_back(id, dot);
    });
    const size_t n = std::min(all.size(), (size_t)std::max(limit, 0));
    std::partial_sort(all.begin(), all.begin() + (long)n, all.end(),
                      [](const auto& a, const auto& b) { return a.second > b.second; });
    all.resize(n);
    return all;
}

std::vector<std::pair<int64_t, double>> nearest_chunks(KnowledgeBase& kb,
                                                       const std::vector<float>& q, int limit,
                                                       const VectorIndexOptions& options) {
    std::error_code ec;
    const int dim = dimension(kb);
    const bool use_graph = !options.graph_file.empty() && dim == (int)q.size() &&
                           std::filesystem::exists(options.graph_file, ec) &&
                           kb.chunk_count() >= options.min_chunks &&
                           kb.meta("hnsw_tag") == current_tag(kb);
    if (!use_graph) return scan_nearest(kb, q, limit);
    hnswlib::InnerProductSpace space((size_t)dim);
    std::unique_ptr<hnswlib::HierarchicalNSW<float>> graph;
    try {
        graph = std::make_unique<hnswlib::HierarchicalNSW<float>>(&space, options.graph_file);
    } catch (const std::exception&) {
        return scan_nearest(kb, q, limit);  // a damaged graph file: the scan is still right
    }
    graph->setEf(std::max(kMinEfSearch, (size_t)limit));
    auto found = graph->searchKnn(q.data(), (size_t)limit);
    std::vector<std::pair<int64_t, double>> out;
    while (!found.empty()) {
        // hnswlib's inner-product distance is 1 - dot; the queue pops the farthest first.
        out.emplace_back((int64_t)found.top().second, 1.0 - (double)found.top().first);
        found.pop();
    }
    std::reverse(out.begin(), out.end());
    return out;
}

bool rebuild_vector_index(KnowledgeBase& kb, const VectorIndexOptions& options) {
    if (options.graph_file.empty()) return false;
    const int64_t n = kb.chunk_count();
    const int dim = dimension(kb);
    std::error_code ec;
    if (n < options.min_chunks || dim <= 0) {
        std::filesystem::remove(options.graph_file, ec);
        return false;
    }
    const std::string tag = current_tag(kb);
    hnswlib::InnerProductSpace space((size_t)dim);
    hnswlib::HierarchicalNSW<float> graph(&space, (size_t)n, kLinks, kEfConstruction);
    kb.for_each_vector([&](int64_t id, std::span<const float> v) {
        if ((int)v.size() == dim) graph.addPoint(v.data(), (hnswlib::labeltype)id);
    });
    const std::string tmp = options.graph_file + ".tmp";
    graph.saveIndex(tmp);
    std::filesystem::rename(tmp, options.graph_file, ec);
    if (ec) throw Error("cannot write " + options.graph_file + ": " + ec.message(), ErrorKind::Io);
    kb.set_meta("hnsw_tag", tag);
    return true;
}

}  // namespace lokal::rag
