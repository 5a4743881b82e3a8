// What of a model is on compute_device()'s GPU already: the copy of its weights that its
// contexts there share (vk::shared_weights). Planning another context counts those weights as
// present, not as memory still needed, and the memory they take as used.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "model/model.h"

namespace lokal::vk {
class DeviceWeights;
}

namespace lokal::model {

class GpuResidency {
  public:
    GpuResidency() = default;  // nothing on the GPU
    // The model's copy as it is now; holding the result keeps it (and its memory) there.
    static GpuResidency of(const Model& model);

    bool holds(const MatrixView& m) const;
    bool holds(std::span<const float> v) const;
    uint64_t weight_bytes() const;

  private:
    std::shared_ptr<vk::DeviceWeights> weights_;
};

// Device memory this process may still use on compute_device()'s GPU: what was free when the
// device was chosen, less what the process holds there now (0 on the CPU).
uint64_t gpu_free_bytes_now();

}  // namespace lokal::model
