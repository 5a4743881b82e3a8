#include "kernels/cpu/attention_tiled.h"

#include <algorithm>
#include <cmath>

#include "base/error.h"
#include "base/fp16.h"
#include "kernels/cpu/attention_internal.h"

namespace lokal::kernels {

namespace {

// Element e of a cache row as a float (a Q8_0 one dequantized, q * d).
float cached_element(KvType type, const void* row, int e) {
    switch (type) {
        case KvType::F16:
            return fp16_to_fp32(static_cast<const uint16_t*>(row)[e]);
        case KvType::F32:
            return static_cast<const float*>(row)[e];
        case KvType::Q8_0: {
            const block_q8_0& b = static_cast<const block_q8_0*>(row)[e / 32];
            return (float)b.qs[e % 32] * fp16_to_fp32(b.d);
        }
    }
    return 0.0f;
}

}  // namespace

size_t tiled_scratch_floats(int head_dim) {
    return (size_t)head_dim * kTiledKeys * 2 + (size_t)kTiledRows * kTiledKeys +
           (size_t)kTiledRows * head_dim + 2 * (size_t)kTiledRows;
}

void detail::attend_tiled_scalar(std::span<const QueryRow> rows, const KvSeqView& cache, int layer,
                                 const AttentionParams& p, float* scratch) {
    const int hd = p.head_dim, n = (int)rows.size();
    int lo = 0, hi = 0;
    const TiledScratch t = tiled_start(scratch, rows, hd, &lo, &hi);
    const float scale = score_scale(p);
    for (int j0 = lo; j0 <= hi; j0 += kTiledKeys) {
        const int nk = std::min(kTiledKeys, hi - j0 + 1);
        for (int k = 0; k < nk; ++k) {
            const void* krow = cache.k_row(layer, j0 + k);
            const void* vrow = cache.v_row(layer, j0 + k);
            for (int d = 0; d < hd; ++d) {
                t.kt[(size_t)d * kTiledKeys + k] =
                    cached_element(cache.type(), krow, p.kv_offset + d);
                t.v[(size_t)k * hd + d] = cached_element(cache.type(), vrow, p.kv_offset + d);
            }
        }
        for (int r = 0; r < n; ++r) {
            float* s = t.s + (size_t)r * kTiledKeys;
            for (int k = 0; k < nk; ++k) {
                float dot = 0.0f;
                for (int d = 0; d < hd; ++d) {
                    dot = std::fma(rows[r].q[d], t.kt[(size_t)d * kTiledKeys + k], dot);
                }
                float x = dot * scale;
                if (p.softcap > 0) x = p.softcap * std::tanh(x);
                const int j = j0 + k;
                s[k] = j < rows[r].first || j > rows[r].last ? -INFINITY : x;
            }
            float* o = t.o + (size_t)r * hd;
            tiled_softmax_row(s, nk, &t.m[r], &t.l[r], o, hd);
            for (int k = 0; k < nk; ++k) {
                for (int d = 0; d < hd; ++d) o[d] = std::fma(s[k], t.v[(size_t)k * hd + d], o[d]);
            }
        }
    }
    for (int r = 0; r < n; ++r) {
        const float inv = t.l[r] > 0 ? 1.0f / t.l[r] : 0.0f;
        for (int d = 0; d < hd; ++d) rows[r].out[d] = t.o[(size_t)r * hd + d] * inv;
    }
}

}  // namespace lokal::kernels
