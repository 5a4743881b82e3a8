#include "fit/op_calibration.h"

#include <algorithm>
#include <atomic>
#include <vector>

#include "base/thread_pool.h"
#include "fit/best_time.h"
#include "kernels/cpu/attention.h"
#include "kernels/cpu/attention_tiled.h"
#include "kernels/cpu/kv_cache.h"
#include "kernels/cpu/rope.h"
#include "kernels/cpu/row_ops.h"

namespace lokal::fit {
namespace {

constexpr int kPrompt = 512;

// A one-layer F16 cache of kPrompt positions of one KV head, filled.
struct FilledCache {
    kernels::KvCache cache;
    explicit FilledCache(int head_dim) : cache(1, head_dim, kernels::KvType::F16, kPrompt) {
        cache.reserve(0, 0, kPrompt);
        std::vector<float> k((size_t)head_dim), v((size_t)head_dim);
        for (int pos = 0; pos < kPrompt; ++pos) {
            for (int i = 0; i < head_dim; ++i) {
                k[(size_t)i] = (float)((pos * 7 + i * 3) % 17) * 0.01f;
                v[(size_t)i] = (float)((pos * 5 + i) % 13) * 0.02f;
            }
            cache.store(0, 0, pos, k.data(), v.data());
        }
    }
};

// Causal attention of kPrompt queries, in jobs of kTiledRows handed out last first (as the
// backend does), giving FLOP/s.
double prompt_attention_gflops(const FilledCache& fc, int head_dim, ThreadPool& pool) {
    if (head_dim > kernels::kTiledMaxHeadDim) return 0;
    std::vector<float> q((size_t)kPrompt * head_dim, 0.1f), out(q.size());
    const size_t scratch_floats = kernels::tiled_scratch_floats(head_dim);
    std::vector<float> scratch(scratch_floats * (size_t)pool.size());
    kernels::AttentionParams p;
    p.head_dim = head_dim;
    p.scale = 0.1f;
    const kernels::KvSeqView view = fc.cache.view(0);
    const int jobs = kPrompt / kernels::kTiledRows;
    // Under a millisecond a run: many tries, so a busy moment on the machine is not the best.
    const double t = best_seconds(30, [&] {
        std::atomic<int> next{jobs - 1};
        pool.run([&](int ith, int) {
            kernels::QueryRow rows[kernels::kTiledRows];
            for (int job = next.fetch_sub(1); job >= 0; job = next.fetch_sub(1)) {
                for (int r = 0; r < kernels::kTiledRows; ++r) {
                    const int pos = job * kernels::kTiledRows + r;
                    rows[r] = {&q[(size_t)pos * head_dim], &out[(size_t)pos * head_dim], 0, pos};
                }
                kernels::attend_tiled({rows, (size_t)kernels::kTiledRows}, view, 0, p,
                                      scratch.data() + scratch_floats * (size_t)ith);
            }
        });
    });
    const double pairs = (double)kPrompt * (kPrompt + 1) / 2;
    return 4.0 * head_dim * pairs / t / 1e9;
}

// One query head over all kPrompt keys on one thread: seconds a key, in nanoseconds.
double generation_key_ns(const FilledCache& fc, int head_dim) {
    std::vector<float> q((size_t)head_dim, 0.1f), out((size_t)head_dim);
    const float* qs[1] = {q.data()};
    float* outs[1] = {out.data()};
    kernels::AttentionParams p;
    p.head_dim = head_dim;
    p.scale = 0.1f;
    p.last = kPrompt - 1;
    const kernels::KvSeqView view = fc.cache.view(0);
    const double t = best_seconds(50, [&] { kernels::attend_group(qs, 1, view, 0, p, outs); });
    return t / kPrompt * 1e9;
}

}  // namespace

OpSpeed measure_ops(int head_dim, int threads) {
    ThreadPool pool(threads);
    OpSpeed s;
    {
        const FilledCache fc(head_dim);
        s.attn_gflops = prompt_attention_gflops(fc, head_dim, pool);
        s.attn_key_ns = generation_key_ns(fc, head_dim);
    }
    const int width = 2048, rows = 128;
    const double elems = (double)width * rows;
    std::vector<float> a((size_t)width * rows, 0.3f), b(a.size(), 0.7f), out(a.size());
    std::vector<float> w((size_t)width, 1.0f);
    s.norm_ns = best_seconds(20,
                             [&] {
                                 for (int r = 0; r < rows; ++r) {
                                     kernels::rms_norm(&a[(size_t)r * width], w.data(),
                                                       &out[(size_t)r * width], width, 1e-6f);
                                 }
                             }) /
                elems * 1e9;
    auto glu_ns = [&](auto glu) {
        return best_seconds(20,
                            [&] {
                                for (int r = 0; r < rows; ++r) {
                                    const size_t o = (size_t)r * width;
                                    glu(&a[o], &b[o], &out[o], width);
                                }
                            }) /
               elems * 1e9;
    };
    s.glu_ns = glu_ns(kernels::swiglu);
    s.geglu_ns = glu_ns(kernels::geglu);
    kernels::RopeConfig rope;
    rope.style = kernels::RopeStyle::NeoX;
    rope.n_rot = std::min(head_dim, 1024);
    const int heads = std::max(1, width / head_dim);
    s.rope_ns = best_seconds(20,
                             [&] {
                                 kernels::RopeTable table;
                                 for (int r = 0; r < rows; ++r) {
                                     table.compute(rope, r);
                                     kernels::rope_apply(&a[(size_t)r * width], heads, head_dim,
                                                         rope, table);
                                 }
                             }) /
                ((double)heads * head_dim * rows) * 1e9;
    return s;
}

}  // namespace lokal::fit
