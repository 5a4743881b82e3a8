// Load-time repacking of a model's matrices into the 8-row interleaved layout the packed kernels
// read (kernels/cpu/packed.h). The packed copies live in memory this object owns; the mmap'd
// originals are dropped from the resident set, so a repacked model costs about what it would
// mapped (the copy replaces the file pages). With a repack cache (repack_cache.h) the packed
// matrices of a model packed before are mapped from disk instead: no packing at all.
#pragma once

#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "base/thread_pool.h"
#include "gguf/gguf_file.h"
#include "model/repack_cache.h"
#include "model/weights.h"

namespace lokal::model {

class PackedWeights {
  public:
    // Repacks every packable matrix of w in place (w's views then point here). Does nothing when
    // LOKAL_REPACK=0. The packed matrices come from the cache file when it has them; otherwise
    // they are packed here and written to it in the background (the destructor waits for that).
    void repack(Weights& w, const gguf::File& file);
    void repack(Weights& w, const gguf::File& file, const RepackCacheParams& cache);

    PackedWeights() = default;
    ~PackedWeights();
    PackedWeights(const PackedWeights&) = delete;
    PackedWeights& operator=(const PackedWeights&) = delete;

    uint64_t bytes() const { return bytes_; }
    int matrices() const { return matrices_; }
    // True when the packed matrices were mapped from a repack cache file.
    bool from_cache() const { return cache_ != nullptr; }
    // Waits until the cache file written after packing is in place (or failed).
    void wait_for_cache_write() const;

  private:
    void repack_one(MatrixView& m, const gguf::File& file, ThreadPool& pool);
    void use_packed(MatrixView& m, const uint8_t* data);

    // Anonymous mappings (huge pages where the kernel allows: fewer faults while packing and
    // fewer TLB misses while streaming weights).
    struct Mapping {
        uint8_t* data = nullptr;
        size_t size = 0;
        Mapping(size_t n);
        ~Mapping();
        Mapping(const Mapping&) = delete;
        Mapping& operator=(const Mapping&) = delete;
    };
    std::vector<std::unique_ptr<Mapping>> buffers_;
    std::unique_ptr<RepackCacheFile> cache_;
    mutable std::thread writer_;  // joined by the (const) wait: it changes no weight
    uint64_t bytes_ = 0;
    int matrices_ = 0;
};

}  // namespace lokal::model
