// RMS norm on the device, row by row (shaders/rms_norm.comp): y = x / sqrt(mean(x^2) + eps) * w.
#pragma once

#include <cstdint>

#include "backends/vulkan/buffer.h"
#include "backends/vulkan/command_stream.h"
#include "backends/vulkan/compute_pipeline.h"

namespace lokal::vk {

class RmsNorm {
  public:
    explicit RmsNorm(const Device& device);

    // x and y hold `rows` rows of `cols` floats; w holds cols floats.
    void record(CommandStream& stream, const Buffer& x, const Buffer& w, const Buffer& y,
                uint32_t rows, uint32_t cols, float eps);

  private:
    const Device& device_;
    ComputePipeline pipeline_;
};

}  // namespace lokal::vk
