#include "model/repack.h"

#include <cstdlib>
#include <new>

#include "base/thread_pool.h"
#include "kernels/cpu/packed.h"

namespace lokal::model {

void PackedWeights::FreeDeleter::operator()(uint8_t* p) const {
    std::free(p);
}

void PackedWeights::repack(Weights& w, const gguf::File& file) {
    if (!kernels::repack_enabled()) return;
    ThreadPool pool(ThreadPool::default_threads());
    for (LayerWeights& L : w.layers) {
        for (MatrixView* m : {&L.wq, &L.wk, &L.wv, &L.wqkv, &L.wo, &L.w_gate, &L.w_up, &L.w_down}) {
            repack_one(*m, file, pool);
        }
    }
    // The output matrix may be the token embedding too (tied): tok_embd keeps its own view of
    // the file, so lookups read the original rows.
    repack_one(w.output, file, pool);
}

void PackedWeights::repack_one(MatrixView& m, const gguf::File& file, ThreadPool& pool) {
    if (m.packed || !kernels::can_pack(m.type, m.rows, m.cols)) return;
    const uint64_t group_bytes = kernels::packed_group_bytes(m.type, m.cols);
    const int64_t n_groups = m.rows / kernels::kPackRows;
    const uint64_t total = group_bytes * n_groups;
    auto* dst = static_cast<uint8_t*>(std::aligned_alloc(64, (total + 63) / 64 * 64));
    if (!dst) throw std::bad_alloc();
    buffers_.emplace_back(dst);
    pool.parallel_for(n_groups, 16, [&](int64_t g0, int64_t g1) {
        kernels::pack_groups(m.type, m.data, m.row_stride, m.cols, g0, g1, dst);
    });
    file.release_pages(m.data, m.row_stride * m.rows);
    m.data = dst;
    m.row_stride = group_bytes;
    m.packed = true;
    bytes_ += total;
    ++matrices_;
}

}  // namespace lokal::model
