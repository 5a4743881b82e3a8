#include "model/repack.h"

#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>
#include <algorithm>
#include <cstdio>
#include <new>
#include <string>

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

namespace {

// The matrices repack packs, in a fixed order (a cache file's entries follow it).
std::vector<MatrixView*> packable_matrices(Weights& w) {
    std::vector<MatrixView*> out;
    for (LayerWeights& L : w.layers) {
        for (MatrixView* m : {&L.wq, &L.wk, &L.wv, &L.wqkv, &L.wo, &L.w_gate, &L.w_up, &L.w_down}) {
            out.push_back(m);
        }
    }
    out.push_back(&w.output);
    std::erase_if(out, [](const MatrixView* m) {
        return m->packed || !kernels::can_pack(m->type, m->rows, m->cols);
    });
    return out;
}

uint64_t packed_bytes(const MatrixView& m) {
    return kernels::packed_group_bytes(m.type, m.cols) * (m.rows / kernels::kPackRows);
}

}  // namespace

void PackedWeights::repack(Weights& w, const gguf::File& file) {
    repack(w, file, repack_cache_params_from_env());
}

void PackedWeights::repack(Weights& w, const gguf::File& file, const RepackCacheParams& cache) {
    // A GPU reads the stored rows; packing them for the CPU kernels would only cost memory.
    if (!kernels::repack_enabled() || compute_device().gpu) return;
    const std::vector<MatrixView*> todo = packable_matrices(w);
    std::vector<PackedEntry> entries;
    uint64_t total = 0;
    for (const MatrixView* m : todo) {
        entries.push_back({m->type, m->rows, m->cols, packed_bytes(*m), nullptr});
        total += entries.back().bytes;
    }
    // A tied output matrix is the token embedding too: lookups then unpack rows of the packed
    // copy, so the file's pages (which the kernel may map 2 MB at a time) stay released and the
    // matrix is resident once.
    const bool tied = w.output.data == w.tok_embd.data;
    ThreadPool pool(ThreadPool::default_threads());

    const bool use_cache = cache.enabled() && !todo.empty() && total >= cache.min_bytes;
    const std::string identity = use_cache ? repack_source_identity(file.path()) : std::string();
    const std::string path =
        identity.empty() ? std::string() : repack_cache_path(cache, file.path());
    if (!identity.empty()) {
        std::string why;
        cache_ = RepackCacheFile::open(path, identity, entries, pool, &why);
        if (!why.empty()) {
            std::fprintf(stderr, "lokal: ignoring repacked weights %s (%s); packing again\n",
                         path.c_str(), why.c_str());
        }
    }
    for (size_t i = 0; i < todo.size(); ++i) {
        if (cache_) {
            // Reading the small tensors beside this one may have mapped its pages (the kernel
            // maps large folios of the file whole); the packed copy stands for them now.
            file.release_pages(todo[i]->data, todo[i]->row_stride * todo[i]->rows);
            use_packed(*todo[i], cache_->data(i));
        } else {
            repack_one(*todo[i], file, pool);
        }
    }
    if (tied && w.output.packed) w.tok_embd = w.output;
    if (cache_ || identity.empty()) return;

    for (size_t i = 0; i < todo.size(); ++i) entries[i].data = todo[i]->data;
    writer_ = std::thread([path, identity, entries = std::move(entries)] {
        // The lowest priority: the first run's tokens come before the copy for the next run.
        ::setpriority(PRIO_PROCESS, (id_t)::gettid(), 19);
        std::string why;
        if (!write_repack_cache(path, identity, entries, &why)) {
            std::fprintf(stderr, "lokal: cannot save repacked weights to %s: %s\n", path.c_str(),
                         why.c_str());
        }
    });
}

PackedWeights::~PackedWeights() {
    wait_for_cache_write();
}

void PackedWeights::wait_for_cache_write() const {
    if (writer_.joinable()) writer_.join();
}

void PackedWeights::use_packed(MatrixView& m, const uint8_t* data) {
    m.data = data;
    m.row_stride = kernels::packed_group_bytes(m.type, m.cols);
    m.packed = true;
    bytes_ += packed_bytes(m);
    ++matrices_;
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
    use_packed(m, dst);
}

}  // namespace lokal::model
