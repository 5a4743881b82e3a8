#include "quant/imatrix_collector.h"

namespace lokal::quant {

ImatrixCollector::ImatrixCollector(const gguf::File& file, bool process_output) {
    for (const gguf::TensorInfo& t : file.tensors()) {
        const bool wanted =
            t.name.rfind("blk.", 0) == 0 || (process_output && t.name == "output.weight");
        if (wanted && t.dims.size() == 2 && t.dims[1] > 1) by_data_[t.data] = {t.name, t.cols()};
    }
}

bool ImatrixCollector::add(const void* weight_data, int64_t cols, const float* x, int n) {
    const auto it = by_data_.find(weight_data);
    if (it == by_data_.end() || it->second.cols != (uint64_t)cols) return false;
    ImatrixEntry& e = entries_[it->second.name];
    if (e.sums.empty()) {
        e.sums.assign((size_t)cols, 0.f);
        e.counts.assign(1, 0.f);
    }
    for (int r = 0; r < n; ++r) {
        const float* row = x + (size_t)r * (size_t)cols;
        for (int64_t c = 0; c < cols; ++c) e.sums[(size_t)c] += row[c] * row[c];
    }
    e.counts[0] += (float)n;
    return true;
}

ImatrixStats ImatrixCollector::stats(const std::string& dataset, uint32_t chunks,
                                     uint32_t chunk_size) const {
    ImatrixStats s;
    s.entries.insert(entries_.begin(), entries_.end());
    s.datasets = {dataset};
    s.chunk_count = chunks;
    s.chunk_size = chunk_size;
    return s;
}

}  // namespace lokal::quant
