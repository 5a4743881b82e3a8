// The KV cache on the device: storing keys and values (shaders/kv_store.comp) and attention over
// them (shaders/kv_attend_<type>.comp). The pool holds the same bytes as the CPU's
// kernels::KvCache pool: page p at p * page_bytes; in a page, layer l at l * layer_bytes, its
// page_rows key rows, then its page_rows value rows. Position pos of a sequence is row
// pos % page_rows of page pages[table_start + pos / page_rows].
#pragma once

#include <cstdint>
#include <memory>

#include "backends/backend.h"
#include "backends/vulkan/buffer.h"
#include "backends/vulkan/command_stream.h"
#include "backends/vulkan/compute_pipeline.h"
#include "backends/vulkan/rows_ref.h"
#include "kernels/cpu/kv_cache.h"

namespace lokal::vk {

struct KvGeometry {
    kernels::KvType type = kernels::KvType::F16;
    uint32_t row_elems = 0;  // n_head_kv * head_dim (Q8_0: a multiple of 32)
    uint32_t page_rows = 0;  // a power of two
    uint32_t n_layer = 0;
    uint64_t row_bytes = 0, layer_bytes = 0, page_bytes = 0;
};

// The geometry kernels::KvCache(n_layer, row_elems, type, ..., page_rows) has.
KvGeometry kv_geometry(kernels::KvType type, uint32_t row_elems, uint32_t page_rows,
                       uint32_t n_layer);

// Where the batch's tokens go, as uint32 arrays from offset 0: each token's position and the
// index in `pages` where its sequence's page table starts.
struct BatchIndex {
    const Buffer* pos = nullptr;
    const Buffer* table_start = nullptr;
    const Buffer* pages = nullptr;
};

class KvAttention {
  public:
    KvAttention(const Device& device, const KvGeometry& g);

    const KvGeometry& geometry() const { return g_; }

    // Stores n rows of keys and values (row_elems floats each), converted to the cache type as
    // KvCache::store does (bit for bit), at each token's sequence and position. Ops reading
    // the pool afterwards need a stream.barrier() first (as after any op).
    void store(CommandStream& stream, const Buffer& pool, uint32_t layer, RowsRef k, RowsRef v,
               uint32_t n, const BatchIndex& idx);

    // out = softmax(q K^T * scale [soft-capped]) V per query head over the token's positions
    // [first, pos[t]], first = window ? max(0, pos - window + 1) : 0; query head h reads KV head
    // h / (n_head / n_head_kv). q and out hold n_head * head_dim floats per row; head_dim <= 256.
    // When the batch makes few workgroups (decoding), each token's positions are split among
    // several and the parts folded in a second pass; max_visible, the most positions a token of
    // the batch sees (pos + 1, or the window), bounds how many: a hint. A token's output bits
    // depend only on its own q and positions, never on the batch, the hint or the split
    // (shaders/attend_fold.glsl). Records barriers of its own only between its passes and
    // before reusing its scratch.
    void attend(CommandStream& stream, const Buffer& pool, uint32_t layer, RowsRef q, RowsRef out,
                uint32_t n, const BatchIndex& idx, const backends::AttentionShape& shape,
                uint32_t max_visible = UINT32_MAX);

    // How many workgroups share a token's positions for a batch of n tokens (1: no split); attend
    // splits less when the partial results would not fit its scratch.
    static uint32_t splits_for(uint32_t n, uint32_t n_head, uint32_t n_head_kv,
                               uint32_t max_visible);

  private:
    const Device& device_;
    KvGeometry g_;
    ComputePipeline store_;
    ComputePipeline attend_;
    ComputePipeline combine_;
    std::unique_ptr<Buffer> partials_;  // made on the first split, of a fixed size
};

}  // namespace lokal::vk
