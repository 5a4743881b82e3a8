// Activations rounded as the CPU's matrix products round them (shaders/act_round.comp): for
// weights whose CPU dot products take 8-bit (Q8_0, Q8_K), f16 or bf16 activations, the row is
// converted to that format and back, so the GPU's float products sum the CPU's terms and
// model outputs stay within the CPU path's tolerances of llama.cpp's.
#pragma once

#include <cstdint>

#include "backends/vulkan/buffer.h"
#include "backends/vulkan/command_stream.h"
#include "backends/vulkan/compute_pipeline.h"
#include "backends/vulkan/rows_ref.h"
#include "tensor/dtype.h"

namespace lokal::vk {

// Whether x must be rounded before a product with weights of type t (false for F32).
bool act_round_needed(DType weight_type);

class ActRound {
  public:
    explicit ActRound(const Device& device);

    // y (n rows of cols floats, back to back) = x rounded for weights of weight_type.
    void record(CommandStream& stream, DType weight_type, RowsRef x, const Buffer& y, uint32_t n,
                uint32_t cols);

  private:
    const Device& device_;
    ComputePipeline pipeline_;
};

}  // namespace lokal::vk
