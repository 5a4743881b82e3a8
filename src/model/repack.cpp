#include "model/repack.h"

#include <sys/mman.h>
#include <algorithm>

#include <new>

#include "base/thread_pool.h"
#include "kernels/cpu/packed.h"
#include "model/compute_device.h"

namespace lokal::model {

PackedWeights::Mapping::Mapping(size_t n) : size(n) {
    void* p = ::mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    ::madvise(p, n, MADV_HUGEPAGE);  // advisory: fine if unsupported
    data = static_cast<uint8_t*>(p);
}

PackedWeights::Mapping::~Mapping() {
    ::munmap(data, size);
}

void PackedWeights::repack(Weights& w, const gguf::File& file) {
    // A GPU reads the stored rows; packing them for the CPU kernels would only cost memory.
    if (!kernels::repack_enabled() || compute_device().gpu) return;
    ThreadPool pool(ThreadPool::default_threads());
    for (LayerWeights& L : w.layers) {
        for (MatrixView* m : {&L.wq, &L.wk, &L.wv, &L.wqkv, &L.wo, &L.w_gate, &L.w_up, &L.w_down}) {
            repack_one(*m, file, pool);
        }
    }
    // A tied output matrix is the token embedding too: lookups then unpack rows of the packed
    // copy, so the file's pages (which the kernel may map 2 MB at a time) stay released and the
    // matrix is resident once.
    const bool tied = w.output.data == w.tok_embd.data;
    repack_one(w.output, file, pool);
    if (tied && w.output.packed) w.tok_embd = w.output;
}

void PackedWeights::repack_one(MatrixView& m, const gguf::File& file, ThreadPool& pool) {
    if (m.packed || !kernels::can_pack(m.type, m.rows, m.cols)) return;
    const uint64_t group_bytes = kernels::packed_group_bytes(m.type, m.cols);
    const int64_t n_groups = m.rows / kernels::kPackRows;
    const uint64_t total = group_bytes * n_groups;
    buffers_.push_back(std::make_unique<Mapping>(total));
    uint8_t* dst = buffers_.back()->data;
    // In slabs, each slab's file pages dropped once copied: the peak resident set stays near the
    // final one instead of holding a whole large matrix (the output: hundreds of MB) twice.
    const uint64_t src_group_bytes = m.row_stride * kernels::kPackRows;
    const int64_t slab = std::max<int64_t>(16, (int64_t)((8u << 20) / src_group_bytes));
    for (int64_t s0 = 0; s0 < n_groups; s0 += slab) {
        const int64_t s1 = std::min(n_groups, s0 + slab);
        pool.parallel_for(s1 - s0, 4, [&](int64_t g0, int64_t g1) {
            kernels::pack_groups(m.type, m.data, m.row_stride, m.cols, s0 + g0, s0 + g1, dst);
        });
        file.release_pages(m.data + s0 * src_group_bytes, (s1 - s0) * src_group_bytes);
    }
    file.release_pages(m.data, m.row_stride * m.rows);
    m.data = dst;
    m.row_stride = group_bytes;
    m.packed = true;
    bytes_ += total;
    ++matrices_;
}

}  // namespace lokal::model
