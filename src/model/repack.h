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

    struct FreeDeleter {
        void operator()(uint8_t* p) const;
    };
    std::vector<std::unique_ptr<uint8_t, FreeDeleter>> buffers_;
    uint64_t bytes_ = 0;
    int matrices_ = 0;
};

}  // namespace lokal::model
