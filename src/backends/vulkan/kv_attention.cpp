#include "backends/vulkan/kv_attention.h"

#include <algorithm>
#include <bit>

#include "backends/vulkan/grid.h"
#include "base/error.h"

namespace lokal::vk {
namespace {

// One row per cache type, in KvType's order: the attention shader, and the type's code in
// shaders/kv_store.comp.
struct KvTypeShaders {
    const char* attend;
    uint32_t store_code;
};
constexpr KvTypeShaders kKvTypeShaders[] = {
    {"kv_attend_f16", 0}, {"kv_attend_f32", 1}, {"kv_attend_q8_0", 2}};

const KvTypeShaders& shaders_of(kernels::KvType t) {
    return kKvTypeShaders[static_cast<size_t>(t)];
}

// Matches the push-constant block of shaders/kv_store.comp.
struct StorePush {
    uint32_t n, layer, k_offset, k_stride, v_offset, v_stride, row_elems, row_bytes, page_words,
        layer_words, page_shift, type;
};

// Matches shaders/attend_head.glsl with kv_attend_head.glsl's PUSH_EXTRA.
struct AttendPush {
    uint32_t n, q_offset, q_stride, o_offset, o_stride, head_dim, group;
    float scale, softcap;
    uint32_t layer, window, row_bytes, page_words, layer_words, page_shift, splits;
};

// Matches the push-constant block of shaders/attend_combine.comp.
struct CombinePush {
    uint32_t n, n_head, head_dim, window, o_offset, o_stride;
};

constexpr uint32_t kStoreMaxBlocks = 512;  // kv_store.comp's MAX_BLOCKS
constexpr uint32_t kMaxHeadDim = 256;      // attend_main.glsl's MAX_DIM
constexpr uint32_t kMaxHeads = 8;          // attend_main.glsl's MAX_HEADS
constexpr uint32_t kTile = 128;            // attend_fold.glsl's TILE: positions per step
constexpr uint32_t kMaxBlocks = 32;        // attend_fold.glsl's MAX_BLOCKS

// Splitting: batches of fewer workgroups than kSplitBelow get about kSplitTarget, with at most
// kMaxSplits per token and at least a block each. Split workgroups write a record of
// head_dim + 2 floats per (token, query head, block), with room for kMaxBlocks per (token,
// query head); a dispatch whose records would not fit kPartialsBytes is not split (the same
// bits, more slowly). 8 MiB holds them for most models whenever the batch is small enough to
// split: 15 tokens of 32 heads of 128, 31 of 8 heads of 256.
constexpr uint32_t kSplitBelow = 128;
constexpr uint32_t kSplitTarget = 256;
constexpr uint32_t kMaxSplits = 32;
constexpr uint64_t kPartialsBytes = uint64_t{8} << 20;

uint64_t partials_bytes(uint32_t n, uint32_t n_head, uint32_t head_dim) {
    return uint64_t{n} * n_head * kMaxBlocks * (head_dim + 2) * 4;
}

// attend_fold.glsl's block_count for a token that sees `visible` positions.
uint32_t blocks_for(uint32_t visible) {
    const uint32_t tiles = visible / kTile + (visible % kTile != 0 ? 1 : 0);
    const uint32_t per = (tiles + kMaxBlocks - 1) / kMaxBlocks;
    return per == 0 ? 0 : (tiles + per - 1) / per;
}

}  // namespace

KvGeometry kv_geometry(kernels::KvType type, uint32_t row_elems, uint32_t page_rows,
                       uint32_t n_layer) {
    KvGeometry g;
    g.type = type;
    g.row_elems = row_elems;
    g.page_rows = page_rows;
    g.n_layer = n_layer;
    g.row_bytes = kernels::kv_row_bytes(type, static_cast<int>(row_elems));
    g.layer_bytes = 2 * uint64_t{page_rows} * g.row_bytes;
    g.page_bytes = g.layer_bytes * n_layer;
    return g;
}

KvAttention::KvAttention(const Device& device, const KvGeometry& g)
    : device_(device),
      g_(g),
      store_(device, "kv_store", 6, sizeof(StorePush)),
      attend_(device, shaders_of(g.type).attend, 7, sizeof(AttendPush)),
      combine_(device, "attend_combine", 3, sizeof(CombinePush)) {
    LOKAL_ASSERT(g.row_elems > 0 && g.n_layer > 0 && std::has_single_bit(g.page_rows));
    LOKAL_ASSERT(g.type != kernels::KvType::Q8_0 ||
                 (g.row_elems % 32 == 0 && g.row_elems / 32 <= kStoreMaxBlocks));
    LOKAL_ASSERT(g.row_bytes == kernels::kv_row_bytes(g.type, static_cast<int>(g.row_elems)));
    LOKAL_ASSERT(g.layer_bytes == 2 * uint64_t{g.page_rows} * g.row_bytes &&
                 g.page_bytes == g.layer_bytes * g.n_layer);
    // The shaders index the pool in 32-bit words and rows within a layer in bytes.
    LOKAL_ASSERT(g.page_bytes % 4 == 0 && g.layer_bytes < (uint64_t{1} << 32));
}

void KvAttention::store(CommandStream& stream, const Buffer& pool, uint32_t layer, RowsRef k,
                        RowsRef v, uint32_t n, const BatchIndex& idx) {
    if (n == 0) return;
    LOKAL_ASSERT(layer < g_.n_layer && k.holds(n, g_.row_elems) && v.holds(n, g_.row_elems));
    LOKAL_ASSERT(pool.size() / g_.page_bytes * (g_.page_bytes / 4) < (uint64_t{1} << 32));
    const StorePush push{n,
                         layer,
                         k.offset,
                         k.stride,
                         v.offset,
                         v.stride,
                         g_.row_elems,
                         static_cast<uint32_t>(g_.row_bytes),
                         static_cast<uint32_t>(g_.page_bytes / 4),
                         static_cast<uint32_t>(g_.layer_bytes / 4),
                         static_cast<uint32_t>(std::countr_zero(g_.page_rows)),
                         shaders_of(g_.type).store_code};
    store_.dispatch(stream, {&pool, k.buf, v.buf, idx.pos, idx.table_start, idx.pages}, &push,
                    row_groups(device_, n, 2));
}

uint32_t KvAttention::splits_for(uint32_t n, uint32_t n_head, uint32_t n_head_kv,
                                 uint32_t max_visible) {
    const uint32_t group = n_head / n_head_kv;
    const uint32_t groups = n * n_head_kv * ((group + kMaxHeads - 1) / kMaxHeads);
    if (groups >= kSplitBelow) return 1;
    return std::max(
        1u, std::min({kMaxSplits, (kSplitTarget + groups - 1) / groups, blocks_for(max_visible)}));
}

void KvAttention::attend(CommandStream& stream, const Buffer& pool, uint32_t layer, RowsRef q,
                         RowsRef out, uint32_t n, const BatchIndex& idx,
                         const backends::AttentionShape& shape, uint32_t max_visible) {
    if (n == 0) return;
    const auto hd = static_cast<uint32_t>(shape.head_dim);
    const auto n_head = static_cast<uint32_t>(shape.n_head);
    const auto n_head_kv = static_cast<uint32_t>(shape.n_head_kv);
    LOKAL_ASSERT(hd > 0 && hd <= kMaxHeadDim && n_head_kv > 0 && n_head % n_head_kv == 0);
    LOKAL_ASSERT(n_head_kv * hd == g_.row_elems && shape.window >= 0);
    LOKAL_ASSERT(layer < g_.n_layer && q.holds(n, n_head * hd) && out.holds(n, n_head * hd));
    LOKAL_ASSERT(pool.size() / g_.page_bytes * (g_.page_bytes / 4) < (uint64_t{1} << 32));
    const uint32_t group = n_head / n_head_kv;
    const uint32_t splits = partials_bytes(n, n_head, hd) <= kPartialsBytes
                                ? splits_for(n, n_head, n_head_kv, max_visible)
                                : 1;
    const AttendPush push{n,
                          q.offset,
                          q.stride,
                          out.offset,
                          out.stride,
                          hd,
                          group,
                          shape.scale,
                          shape.softcap,
                          layer,
                          static_cast<uint32_t>(shape.window),
                          static_cast<uint32_t>(g_.row_bytes),
                          static_cast<uint32_t>(g_.page_bytes / 4),
                          static_cast<uint32_t>(g_.layer_bytes / 4),
                          static_cast<uint32_t>(std::countr_zero(g_.page_rows)),
                          splits};
    const uint32_t chunks = (group + kMaxHeads - 1) / kMaxHeads;
    const Groups grid = row_groups(device_, n, n_head_kv * chunks * splits);
    if (splits == 1) {  // the partials binding is not written: any buffer will do
        attend_.dispatch(stream,
                         {q.buf, out.buf, &pool, idx.pos, idx.table_start, idx.pages, out.buf},
                         &push, grid);
        return;
    }
    if (!partials_) {
        partials_ = std::make_unique<Buffer>(device_, kPartialsBytes, MemoryKind::DeviceLocal,
                                             "attention partial results");
    }
    stream.barrier();  // an earlier attend's merge may still read the partials
    attend_.dispatch(stream,
                     {q.buf, out.buf, &pool, idx.pos, idx.table_start, idx.pages, partials_.get()},
                     &push, grid);
    stream.barrier();
    const CombinePush fold{n,          n_head,    hd, static_cast<uint32_t>(shape.window),
                           out.offset, out.stride};
    combine_.dispatch(stream, {partials_.get(), out.buf, idx.pos}, &fold,
                      row_groups(device_, n, n_head));
}

}  // namespace lokal::vk
