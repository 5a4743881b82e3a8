#include "backends/cpu/cpu_backend.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <utility>

#include "base/error.h"
#include "kernels/cpu/attention.h"
#include "kernels/cpu/attention_tiled.h"
#include "kernels/cpu/row_ops.h"

namespace lokal::backends {

using kernels::AttentionParams;
using kernels::kMaxGroupHeads;
using kernels::kTiledMaxHeadDim;
using kernels::kTiledMinQueries;
using kernels::kTiledRows;
using kernels::QueryRow;

CpuBackend::CpuBackend(const BackendParams& p)
    : pool_(p.n_threads > 0 ? p.n_threads : ThreadPool::default_threads()),
      kv_(p.kv_rows > 0
              ? std::make_unique<kernels::KvCache>(p.n_layer, p.kv_row_elems, p.kv_type, p.kv_rows)
              : nullptr) {
    const AttentionShape& a = p.attention;
    tiled_token_.resize(p.max_batch);
    if (a.head_dim <= kTiledMaxHeadDim && a.n_head_kv > 0) {
        const int group = a.n_head / a.n_head_kv;
        const size_t slices = (size_t)(group + kTiledRows - 1) / kTiledRows;
        tiled_jobs_.reserve((size_t)p.max_batch * a.n_head_kv * slices);
        tiled_scratch_.resize((size_t)pool_.size() * kernels::tiled_scratch_floats(a.head_dim));
    }
}

CpuBackend::~CpuBackend() = default;

BufferId CpuBackend::alloc_rows(int rows, int width) {
    buffers_.push_back({std::vector<float>((size_t)rows * width), width});
    return (BufferId)buffers_.size() - 1;
}

void CpuBackend::resize_rows(BufferId buf, int rows) {
    RowBuffer& b = buffers_[buf];
    b.data.clear();
    b.data.shrink_to_fit();
    b.data.resize((size_t)rows * b.width);
}

void CpuBackend::read_rows(Cols src, int n, float* dst) {
    for (int t = 0; t < n; ++t) std::copy_n(at(src, t), src.width, dst + (size_t)t * src.width);
}

void CpuBackend::write_rows(Cols dst, int n, const float* src) {
    for (int t = 0; t < n; ++t) std::copy_n(src + (size_t)t * dst.width, dst.width, at(dst, t));
}

bool CpuBackend::kv_reserve(int seq, int first_write, int n_rows) {
    LOKAL_ASSERT(kv_);
    return kv_->reserve(seq, first_write, n_rows);
}

void CpuBackend::kv_truncate(int seq, int n) {
    LOKAL_ASSERT(kv_);
    kv_->truncate(seq, n);
}

void CpuBackend::kv_copy_prefix(int src, int dst, int n) {
    LOKAL_ASSERT(kv_);
    kv_->copy_prefix(src, dst, n);
}

void CpuBackend::kv_read_rows(int seq, int first, int n, void* dst) {
    LOKAL_ASSERT(kv_);
    kv_->read_rows(seq, first, n, static_cast<uint8_t*>(dst));
}

void CpuBackend::kv_write_rows(int seq, int first, int n, const void* src) {
    LOKAL_ASSERT(kv_);
    kv_->write_rows(seq, first, n, static_cast<const uint8_t*>(src));
}

KvStats CpuBackend::kv_stats() const {
    if (!kv_) return {};
    return {kv_->bytes(), kv_->pages_total(), kv_->pages_used()};
}

void CpuBackend::set_batch(const Batch& batch) {
    LOKAL_ASSERT(batch.seqs.size() == batch.tokens.size() &&
                 batch.positions.size() == batch.tokens.size() &&
                 batch.tokens.size() <= tiled_token_.size());
    batch_ = batch;
    n_seqs_ = 0;
    for (int32_t s : batch.seqs) n_seqs_ = std::max(n_seqs_, (int)s + 1);
    planned_ = false;
}

void CpuBackend::get_rows(const MatrixView& table, std::span<const int32_t> ids, Cols out) {
    for (size_t t = 0; t < ids.size(); ++t) kernels::get_row(table, ids[t], at(out, (int)t));
}

void CpuBackend::scale(Cols x, int n, float s) {
    each_row(n, x.width, [&](int t) {
        float* r = at(x, t);
        for (int i = 0; i < x.width; ++i) r[i] *= s;
    });
}

void CpuBackend::rms_norm(Cols x, std::span<const float> w, Cols out, int n, float eps) {
    each_row(n, x.width,
             [&](int t) { kernels::rms_norm(at(x, t), w.data(), at(out, t), x.width, eps); });
}

void CpuBackend::layer_norm(Cols x, std::span<const float> w, std::span<const float> b, Cols out,
                            int n, float eps) {
    each_row(n, x.width, [&](int t) {
        kernels::layer_norm(at(x, t), w.data(), b.data(), at(out, t), x.width, eps);
    });
}

void CpuBackend::rms_norm_heads(Cols x, std::span<const float> w, int n, int head_dim, float eps) {
    pool_.parallel_for(n, grain_for(x.width), [&](int64_t t0, int64_t t1) {
        for (int64_t t = t0; t < t1; ++t) {
            float* r = at(x, (int)t);
            for (int h = 0; h < x.width / head_dim; ++h) {
                kernels::rms_norm(r + h * head_dim, w.data(), r + h * head_dim, head_dim, eps);
            }
        }
    });
}

namespace {
MatmulObserver& matmul_observer() {
    static MatmulObserver observer;
    return observer;
}
}  // namespace

void set_matmul_observer(MatmulObserver observer) {
    matmul_observer() = std::move(observer);
}

void CpuBackend::matmul(const MatrixView& w, Cols x, Cols out, int n) {
    // The kernels read activation rows back to back.
    LOKAL_ASSERT(x.col == 0 && x.width == stride(x) && x.width == w.cols && out.width == w.rows);
    if (matmul_observer()) matmul_observer()(w, at(x, 0), n);
    kernels::matmul(w, at(x, 0), n, at(out, 0), stride(out), pool_, mm_scratch_);
}

void CpuBackend::add_bias(Cols x, std::span<const float> b, int n) {
    pool_.parallel_for(n, grain_for(x.width), [&](int64_t t0, int64_t t1) {
        for (int64_t t = t0; t < t1; ++t) kernels::add_bias(at(x, (int)t), b.data(), x.width);
    });
}

void CpuBackend::rope(Cols q, Cols k, int n, int head_dim, const RopeConfig& rope) {
    pool_.parallel_for(n, grain_for(q.width + k.width), [&](int64_t t0, int64_t t1) {
        kernels::RopeTable table;
        for (int64_t t = t0; t < t1; ++t) {
            table.compute(rope, batch_.positions[t]);
            kernels::rope_apply(at(q, (int)t), q.width / head_dim, head_dim, rope, table);
            kernels::rope_apply(at(k, (int)t), k.width / head_dim, head_dim, rope, table);
        }
    });
}

void CpuBackend::kv_store(int layer, Cols k, Cols v, int n) {
    pool_.parallel_for(n, grain_for(k.width + v.width), [&](int64_t t0, int64_t t1) {
        for (int64_t t = t0; t < t1; ++t) {
            kv_->store(batch_.seqs[t], layer, batch_.positions[t], at(k, (int)t), at(v, (int)t));
        }
    });
}

void CpuBackend::glu(Activation act, Cols gate, Cols up, Cols out, int n) {
    pool_.parallel_for(n, std::max(1, 16384 / out.width), [&](int64_t t0, int64_t t1) {
        for (int64_t t = t0; t < t1; ++t) {
            const int r = (int)t;
            if (act == Activation::GeluTanh) {
                kernels::geglu(at(gate, r), at(up, r), at(out, r), out.width);
            } else {
                kernels::swiglu(at(gate, r), at(up, r), at(out, r), out.width);
            }
        }
    });
}

void CpuBackend::gelu(Cols x, int n) {
    each_row(n, x.width, [&](int t) { kernels::gelu_inplace(at(x, t), x.width); });
}

void CpuBackend::tanh(Cols x, int n) {
    each_row(n, x.width, [&](int t) {
        float* r = at(x, t);
        for (int i = 0; i < x.width; ++i) r[i] = std::tanh(r[i]);
    });
}

void CpuBackend::add(Cols x, Cols y, int n) {
    each_row(n, x.width, [&](int t) {
        float* a = at(x, t);
        const float* b = at(y, t);
        for (int i = 0; i < x.width; ++i) a[i] += b[i];
    });
}

void CpuBackend::gather_rows(Cols src, std::span<const int32_t> rows, Cols dst) {
    for (size_t r = 0; r < rows.size(); ++r) {
        std::copy_n(at(src, rows[r]), src.width, at(dst, (int)r));
    }
}

void CpuBackend::logits(const MatrixView& w, Cols x, int n, float softcap, float* dst) {
    LOKAL_ASSERT(x.col == 0 && x.width == stride(x) && x.width == w.cols);
    if (matmul_observer()) matmul_observer()(w, at(x, 0), n);
    kernels::matmul(w, at(x, 0), n, dst, w.rows, pool_, mm_scratch_);
    if (softcap > 0) {
        for (size_t i = 0; i < (size_t)n * w.rows; ++i) {
            dst[i] = softcap * std::tanh(dst[i] / softcap);
        }
    }
}

// ---- attention ----------------------------------------------------------------------------

void CpuBackend::attention_all_rows(Cols q, Cols k, Cols v, Cols out, int n, int head_dim,
                                    float scale) {
    const int n_head = q.width / head_dim;
    LOKAL_ASSERT(stride(k) == stride(v));
    pool_.parallel_for((int64_t)n * n_head, 1, [&](int64_t j0, int64_t j1) {
        std::vector<float> scores(n);
        for (int64_t job = j0; job < j1; ++job) {
            const int t = (int)(job / n_head), h = (int)(job % n_head);
            const size_t off = (size_t)h * head_dim;
            kernels::attend_all_rows(at(q, t) + off, at(k, 0) + off, at(v, 0) + off, stride(k), n,
                                     head_dim, scale, scores.data(), at(out, t) + off);
        }
    });
}

void CpuBackend::plan_tiled_attention(const AttentionShape& shape) {
    planned_ = true;
    const int n = (int)batch_.tokens.size();
    tiled_jobs_.clear();
    std::fill_n(tiled_token_.begin(), n, 0);
    if (tiled_scratch_.empty()) return;
    const int group = shape.n_head / shape.n_head_kv;
    const int heads = std::min(group, kTiledRows);
    const int tokens_per_job = std::max(1, kTiledRows / heads);
    seq_tokens_.assign(n_seqs_, 0);
    for (int t = 0; t < n; ++t) ++seq_tokens_[batch_.seqs[t]];
    for (int t = 0; t < n;) {
        const int s = batch_.seqs[t];
        if (seq_tokens_[s] < kTiledMinQueries) {
            ++t;
            continue;
        }
        int nt = 1;
        while (t + nt < n && nt < tokens_per_job && batch_.seqs[t + nt] == s) ++nt;
        std::fill_n(tiled_token_.begin() + t, nt, 1);
        for (int kvh = 0; kvh < shape.n_head_kv; ++kvh) {
            for (int g0 = 0; g0 < group; g0 += heads) {
                tiled_jobs_.push_back({t, nt, kvh, g0, std::min(heads, group - g0)});
            }
        }
        t += nt;
    }
}

void CpuBackend::attention(int layer, Cols q, Cols out, int n, const AttentionShape& shape) {
    if (!planned_) plan_tiled_attention(shape);
    AttentionParams base;
    base.head_dim = shape.head_dim;
    base.scale = shape.scale;
    base.softcap = shape.softcap;
    if (!tiled_jobs_.empty()) attend_tiled_jobs(layer, q, out, base, shape);
    attend_rows(layer, q, out, n, base, shape);
}

void CpuBackend::attend_tiled_jobs(int layer, Cols q, Cols out, const AttentionParams& base,
                                   const AttentionShape& shape) {
    const int hd = shape.head_dim, group = shape.n_head / shape.n_head_kv;
    // Jobs later in the batch see more keys: hand them out from the last one back, one at a
    // time, so the threads finish together.
    std::atomic<int64_t> next{(int64_t)tiled_jobs_.size() - 1};
    pool_.run([&](int ith, int) {
        float* scratch = tiled_scratch_.data() + (size_t)ith * kernels::tiled_scratch_floats(hd);
        QueryRow rows[kTiledRows];
        for (int64_t job = next.fetch_sub(1); job >= 0; job = next.fetch_sub(1)) {
            const TiledJob& j = tiled_jobs_[job];
            AttentionParams ap = base;
            ap.kv_offset = j.kvh * hd;
            int nr = 0;
            for (int t = j.t0; t < j.t0 + j.nt; ++t) {
                const int last = batch_.positions[t];
                const int first = shape.window > 0 ? std::max(0, last - shape.window + 1) : 0;
                for (int g = j.g0; g < j.g0 + j.ng; ++g) {
                    const size_t h = (size_t)j.kvh * group + g;
                    rows[nr++] = {at(q, t) + h * hd, at(out, t) + h * hd, first, last};
                }
            }
            kernels::attend_tiled({rows, (size_t)nr}, kv_->view(batch_.seqs[j.t0]), layer, ap,
                                  scratch);
        }
    });
}

// The tokens that do not attend tiled: one job is a token's query heads that share a KV head
// (they read the cache together). Later tokens see more keys: threads take every nth job so each
// gets an even share of short and long rows. Small jobs stay on one thread.
void CpuBackend::attend_rows(int layer, Cols q, Cols out, int n, const AttentionParams& base,
                             const AttentionShape& shape) {
    const int hd = shape.head_dim, nkv = shape.n_head_kv, group = shape.n_head / nkv;
    int n_rest = 0;
    for (int t = 0; t < n; ++t) n_rest += tiled_token_[t] == 0 ? 1 : 0;
    if (n_rest == 0) return;
    const int64_t n_jobs = (int64_t)n * nkv;
    const bool one_thread =
        (int64_t)n_rest * nkv * group * hd * (batch_.positions[n - 1] + 1) < 65536;
    auto attend_jobs = [&](int ith, int nth) {
        const float* q_heads[kMaxGroupHeads];
        float* out_heads[kMaxGroupHeads];
        for (int64_t job = ith; job < n_jobs; job += nth) {
            const int t = (int)(job / nkv), kvh = (int)(job % nkv);
            if (tiled_token_[t] != 0) continue;
            AttentionParams ap = base;
            ap.kv_offset = kvh * hd;
            ap.last = batch_.positions[t];
            ap.first = shape.window > 0 ? std::max(0, ap.last - shape.window + 1) : 0;
            for (int g0 = 0; g0 < group; g0 += kMaxGroupHeads) {
                const int ng = std::min(kMaxGroupHeads, group - g0);
                for (int g = 0; g < ng; ++g) {
                    const size_t h = (size_t)kvh * group + g0 + g;
                    q_heads[g] = at(q, t) + h * hd;
                    out_heads[g] = at(out, t) + h * hd;
                }
                kernels::attend_group(q_heads, ng, kv_->view(batch_.seqs[t]), layer, ap, out_heads);
            }
        }
    };
    if (one_thread) {
        attend_jobs(0, 1);
    } else {
        pool_.run(attend_jobs);
    }
}

}  // namespace lokal::backends
