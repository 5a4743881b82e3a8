// The op table on the CPU: kernels/cpu's SIMD kernels (picked per instruction set at start-up),
// a thread pool that splits each op's rows, a paged KV cache in (virtual) host memory, and
// activation buffers that are plain host rows. Ops run when called.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "backends/backend.h"
#include "base/thread_pool.h"
#include "kernels/cpu/attention.h"
#include "kernels/cpu/kv_cache.h"
#include "kernels/cpu/matmul.h"

namespace lokal::backends {

// Sees the weight and the n input rows (w.cols floats each, back to back) of every matrix product
// before it runs: lokal imatrix sums the squared inputs. Process-wide; empty (the default) for
// none. Set it before passes run, not while they do.
using MatmulObserver = std::function<void(const MatrixView& w, const float* x, int n)>;
void set_matmul_observer(MatmulObserver observer);

class CpuBackend final : public Backend {
  public:
    explicit CpuBackend(const BackendParams& params);
    ~CpuBackend() override;

    const char* name() const override { return "cpu"; }
    int n_threads() const override { return pool_.size(); }

    BufferId alloc_rows(int rows, int width) override;
    void resize_rows(BufferId buf, int rows) override;
    void read_rows(Cols src, int n, float* dst) override;
    void write_rows(Cols dst, int n, const float* src) override;

    bool kv_reserve(int seq, int first_write, int n_rows) override;
    void kv_truncate(int seq, int n) override;
    void kv_copy_prefix(int src, int dst, int n) override;
    KvStats kv_stats() const override;
    void kv_read_rows(int seq, int first, int n, void* dst) override;
    void kv_write_rows(int seq, int first, int n, const void* src) override;

    void set_batch(const Batch& batch) override;
    void get_rows(const MatrixView& table, std::span<const int32_t> ids, Cols out) override;
    void scale(Cols x, int n, float s) override;
    void rms_norm(Cols x, std::span<const float> w, Cols out, int n, float eps) override;
    void layer_norm(Cols x, std::span<const float> w, std::span<const float> b, Cols out, int n,
                    float eps) override;
    void rms_norm_heads(Cols x, std::span<const float> w, int n, int head_dim, float eps) override;
    void matmul(const MatrixView& w, Cols x, Cols out, int n) override;
    void add_bias(Cols x, std::span<const float> b, int n) override;
    void rope(Cols q, Cols k, int n, int head_dim, const RopeConfig& rope) override;
    void kv_store(int layer, Cols k, Cols v, int n) override;
    void attention(int layer, Cols q, Cols out, int n, const AttentionShape& shape) override;
    void attention_all_rows(Cols q, Cols k, Cols v, Cols out, int n, int head_dim,
                            float scale) override;
    void glu(Activation act, Cols gate, Cols up, Cols out, int n) override;
    void gelu(Cols x, int n) override;
    void tanh(Cols x, int n) override;
    void add(Cols x, Cols y, int n) override;
    void gather_rows(Cols src, std::span<const int32_t> rows, Cols dst) override;
    void logits(const MatrixView& w, Cols x, int n, float softcap, float* dst) override;

  private:
    struct RowBuffer {
        std::vector<float> data;
        int width = 0;
    };
    struct TiledJob {
        int t0, nt;  // batch tokens t0..t0+nt-1, all of one sequence
        int kvh;     // the KV head
        int g0, ng;  // its query heads g0..g0+ng-1 (within the group)
    };

    float* at(Cols c, int row) {
        RowBuffer& b = buffers_[c.buf];
        return b.data.data() + (size_t)row * b.width + c.col;
    }
    int stride(Cols c) const { return buffers_[c.buf].width; }
    // Rows per parallel chunk for element-wise work on rows of `width` floats: ~4096 floats, so a
    // single token (generation) runs on the calling thread.
    static int64_t grain_for(int width) { return std::max(1, 4096 / std::max(1, width)); }
    // fn(t) for rows t = 0..n-1 of `width` floats, split across the pool when there are enough.
    template <typename Fn>
    void each_row(int n, int width, Fn&& fn) {
        pool_.parallel_for(n, grain_for(width), [&](int64_t t0, int64_t t1) {
            for (int64_t t = t0; t < t1; ++t) fn((int)t);
        });
    }

    // Marks the batch tokens that attend tiled and cuts them into attend_tiled jobs (once per
    // batch, at its first attention).
    void plan_tiled_attention(const AttentionShape& shape);
    void attend_tiled_jobs(int layer, Cols q, Cols out, const kernels::AttentionParams& base,
                           const AttentionShape& shape);
    void attend_rows(int layer, Cols q, Cols out, int n, const kernels::AttentionParams& base,
                     const AttentionShape& shape);

    ThreadPool pool_;
    kernels::MatmulScratch mm_scratch_;
    std::unique_ptr<kernels::KvCache> kv_;
    std::vector<RowBuffer> buffers_;
    Batch batch_;
    int n_seqs_ = 0;  // 1 + the largest sequence id in the batch
    // Tiled prompt attention: per batch token whether it attends tiled, the jobs, the
    // per-sequence token counts, and per-thread scratch (empty when the heads are too large).
    bool planned_ = false;
    std::vector<uint8_t> tiled_token_;
    std::vector<TiledJob> tiled_jobs_;
    std::vector<int> seq_tokens_;
    std::vector<float> tiled_scratch_;
};

}  // namespace lokal::backends
