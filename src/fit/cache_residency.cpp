#include "fit/cache_residency.h"

#include <cstdlib>
#include <fstream>
#include <string>

#include "fit/synthetic_model.h"

namespace lokal::fit {

std::vector<MatrixShape> streamed_matrices(const gguf::File& f) {
    const bool tied = f.find_tensor("output.weight") == nullptr;
    const std::string output = tied ? "token_embd.weight" : "output.weight";
    std::vector<MatrixShape> shapes;
    for (const auto& t : f.tensors()) {
        if (t.dims.size() < 2) continue;
        if (t.name == "token_embd.weight" && !tied) continue;
        shapes.push_back({t.type, (int64_t)t.rows(), (int64_t)t.cols(), t.name == output});
    }
    return shapes;
}

uint64_t last_level_cache_bytes() {
    uint64_t best = 0;
    int best_level = 0;
    for (int i = 0; i < 8; ++i) {
        const std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(i);
        std::ifstream level_in(dir + "/level"), size_in(dir + "/size");
        int level = 0;
        std::string size;
        if (!(level_in >> level) || !(size_in >> size) || size.empty()) continue;
        uint64_t bytes = std::strtoull(size.c_str(), nullptr, 10);
        if (size.back() == 'K') bytes <<= 10;
        if (size.back() == 'M') bytes <<= 20;
        if (level > best_level || (level == best_level && bytes > best)) {
            best_level = level;
            best = bytes;
        }
    }
    return best;
}

bool stays_in_cache(const std::vector<MatrixShape>& shapes) {
    const uint64_t llc = last_level_cache_bytes();
    uint64_t bytes = 0;
    for (const MatrixShape& s : shapes) bytes += row_bytes(s.type, (uint64_t)s.cols) * s.rows;
    return llc > 0 && !shapes.empty() && bytes <= llc / 2;
}

bool timed_whole(const gguf::File& file, uint64_t available_memory) {
    if (stays_in_cache(streamed_matrices(file))) return true;
    uint64_t bytes = 0;
    for (const auto& t : file.tensors()) bytes += t.n_bytes;
    return bytes <= kTimedWholeBytes && bytes <= available_memory / 4;
}

bool timed_by_layers(const gguf::File& file, uint64_t available_memory) {
    const uint64_t copies = synthetic_model_bytes(file, kTimedLayers.first) +
                            synthetic_model_bytes(file, kTimedLayers.second);
    return copies <= available_memory / 4;
}

}  // namespace lokal::fit
