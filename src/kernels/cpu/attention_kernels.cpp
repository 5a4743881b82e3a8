// The per-(cache type, instruction set) attention tables and the entry points that use them.
#include "kernels/cpu/attention_kernels.h"

#include <array>

#include "base/error.h"
#include "kernels/cpu/attention_internal.h"

namespace lokal::kernels {
namespace {

using OneHeadFn = void (*)(const float* q, const KvSeqView& cache, int layer,
                           const AttentionParams& p, float* out);

template <OneHeadFn kOne>
void head_by_head(const float* const* q, int n_heads, const KvSeqView& cache, int layer,
                  const AttentionParams& p, float* const* out) {
    for (int g = 0; g < n_heads; ++g) kOne(q[g], cache, layer, p, out[g]);
}

AttentionKernels build(KvType type, Isa isa) {
    AttentionKernels k;
    switch (type) {
        case KvType::F16:
            k.heads = head_by_head<detail::attend_f16_scalar>;
            break;
        case KvType::Q8_0:
            k.heads = head_by_head<detail::attend_q8_0_scalar>;
            break;
        case KvType::F32:
            k.heads = head_by_head<detail::attend_f32_scalar>;
            break;
    }
    k.tiled = detail::attend_tiled_scalar;
#if defined(__x86_64__) || defined(_M_X64)
    if (isa == Isa::Avx2 || isa == Isa::Avx512 || isa == Isa::Amx) {
        if (type == KvType::F16) k.heads = detail::attend_f16_heads_avx2;
        if (type == KvType::Q8_0) k.heads = detail::attend_q8_0_heads_avx2;
        k.tiled = detail::attend_tiled_avx2;
    }
    if (isa == Isa::Avx512 || isa == Isa::Amx) k.tiled = detail::attend_tiled_avx512;
#else
    (void)isa;
#endif
    return k;
}

constexpr KvType kKvTypes[] = {KvType::F16, KvType::F32, KvType::Q8_0};
constexpr size_t kNumIsas = std::size(kAllIsas);

}  // namespace

const AttentionKernels& attention_kernels(KvType type, Isa isa) {
    static const auto tables = [] {
        std::array<std::array<AttentionKernels, std::size(kKvTypes)>, kNumIsas> t{};
        for (Isa i : kAllIsas) {
            for (KvType kv : kKvTypes) t[(size_t)i][(size_t)kv] = build(kv, i);
        }
        return t;
    }();
    return tables[(size_t)isa][(size_t)type];
}

void attend(const float* q, const KvSeqView& cache, int layer, const AttentionParams& p,
            float* out) {
    attention_kernels(cache.type(), active_isa()).heads(&q, 1, cache, layer, p, &out);
}

void attend_group(const float* const* q, int n_heads, const KvSeqView& cache, int layer,
                  const AttentionParams& p, float* const* out) {
    attention_kernels(cache.type(), active_isa()).heads(q, n_heads, cache, layer, p, out);
}

void attend_tiled(std::span<const QueryRow> rows, const KvSeqView& cache, int layer,
                  const AttentionParams& p, float* scratch) {
    LOKAL_ASSERT(!rows.empty() && (int)rows.size() <= kTiledRows && p.head_dim <= kTiledMaxHeadDim);
    attention_kernels(cache.type(), active_isa()).tiled(rows, cache, layer, p, scratch);
}

}  // namespace lokal::kernels
