// The attention kernels per cache type and instruction set, like the matmul tables
// (vec_dot.h): the scalar references for Isa::Scalar (and on Arm), the AVX2 versions on every
// x86 SIMD set. Every entry gives its reference's bits. attend, attend_group and attend_tiled
// run the active instruction set's entry.
#pragma once

#include <span>

#include "kernels/cpu/attention.h"
#include "kernels/cpu/attention_tiled.h"
#include "kernels/cpu/kv_cache.h"
#include "kernels/cpu/vec_dot.h"

namespace lokal::kernels {

// n_heads (any number) query heads q[g] sharing the KV head at p.kv_offset -> out[g].
using AttendHeadsFn = void (*)(const float* const* q, int n_heads, const KvSeqView& cache,
                               int layer, const AttentionParams& p, float* const* out);
// attend_tiled's contract (attention_tiled.h).
using AttendTiledFn = void (*)(std::span<const QueryRow> rows, const KvSeqView& cache, int layer,
                               const AttentionParams& p, float* scratch);

struct AttentionKernels {
    AttendHeadsFn heads = nullptr;
    AttendTiledFn tiled = nullptr;
};

const AttentionKernels& attention_kernels(KvType type, Isa isa);

}  // namespace lokal::kernels
