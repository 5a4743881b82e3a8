#include "backends/vulkan/attention_all_rows.h"

#include "backends/vulkan/grid.h"
#include "base/error.h"

namespace lokal::vk {
namespace {

// Matches shaders/attend_head.glsl with attend_all_rows.comp's PUSH_EXTRA.
struct AllRowsPush {
    uint32_t n, q_offset, q_stride, o_offset, o_stride, head_dim, group;
    float scale, softcap;
    uint32_t k_offset, k_stride, v_offset, v_stride;
};

constexpr uint32_t kMaxHeadDim = 256;  // attend_main.glsl's MAX_DIM

}  // namespace

AttentionAllRows::AttentionAllRows(const Device& device)
    : device_(device), pipeline_(device, "attend_all_rows", 4, sizeof(AllRowsPush)) {}

void AttentionAllRows::record(CommandStream& stream, RowsRef q, RowsRef k, RowsRef v, RowsRef out,
                              uint32_t n, uint32_t n_head, uint32_t head_dim, float scale) {
    if (n == 0) return;
    LOKAL_ASSERT(head_dim > 0 && head_dim <= kMaxHeadDim && n_head > 0);
    const uint32_t width = n_head * head_dim;
    LOKAL_ASSERT(q.holds(n, width) && k.holds(n, width) && v.holds(n, width) &&
                 out.holds(n, width));
    const AllRowsPush push{n,     q.offset, q.stride, out.offset, out.stride, head_dim, 1,
                           scale, 0.0f,     k.offset, k.stride,   v.offset,   v.stride};
    pipeline_.dispatch(stream, {q.buf, out.buf, k.buf, v.buf}, &push,
                       row_groups(device_, n, n_head));
}

}  // namespace lokal::vk
