// Encoders' attention on the device (shaders/attend_all_rows.comp): every one of n rows attends
// to all n rows, no cache and no mask, each head on its own (no grouped heads).
#pragma once

#include <cstdint>

#include "backends/vulkan/command_stream.h"
#include "backends/vulkan/compute_pipeline.h"
#include "backends/vulkan/rows_ref.h"

namespace lokal::vk {

class AttentionAllRows {
  public:
    explicit AttentionAllRows(const Device& device);

    // out row t, head h = softmax(q_t,h . K_h^T * scale) V_h over rows 0..n-1, for n_head heads
    // of head_dim (<= 256) floats side by side in each row of q, k, v and out.
    void record(CommandStream& stream, RowsRef q, RowsRef k, RowsRef v, RowsRef out, uint32_t n,
                uint32_t n_head, uint32_t head_dim, float scale);

  private:
    const Device& device_;
    ComputePipeline pipeline_;
};

}  // namespace lokal::vk
