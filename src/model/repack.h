// Load-time repacking of a model's matrices into the 8-row interleaved layout the packed kernels
// read (kernels/cpu/packed.h). The packed copies live in memory this object owns; the mmap'd
// originals are dropped from the resident set, so a repacked model costs about what it would
// mapped (the copy replaces the file pages).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "base/thread_pool.h"
#include "gguf/gguf_file.h"
#include "model/weights.h"

namespace lokal::model {

class PackedWeights {
  public:
    // Repacks every packable matrix of w in place (w's views then point here). Does nothing when
    // LOKAL_REPACK=0.
    void repack(Weights& w, const gguf::File& file);

    uint64_t bytes() const { return bytes_; }
    int matrices() const { return matrices_; }

  private:
    void repack_one(MatrixView& m, const gguf::File& file, ThreadPool& pool);

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
    uint64_t bytes_ = 0;
    int matrices_ = 0;
};

}  // namespace lokal::model
