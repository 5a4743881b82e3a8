// One copy of a model's weights per device, shared by every backend that runs (part of) the
// model there: the contexts of one model (a server's chat and embedding contexts, one rebuilt
// for a new context size) upload each weight once and hold it once. The copy goes when the last
// backend (or other holder) lets go of it.
#pragma once

#include <cstdint>
#include <memory>

#include "backends/vulkan/device.h"
#include "backends/vulkan/device_weights.h"

namespace lokal::vk {

// The copy of model `model_id`'s weights on `device` (made empty when there is none). model_id
// names one loaded model for the life of the process (never reused, unlike its address);
// max_binding (max_binding_bytes) is part of the key, since it decides how matrices are cut.
std::shared_ptr<DeviceWeights> shared_weights(uint64_t model_id, const Device& device,
                                              uint64_t max_binding);

// The copy that exists now, or nullptr; makes none.
std::shared_ptr<DeviceWeights> existing_shared_weights(uint64_t model_id, const Device& device,
                                                       uint64_t max_binding);

}  // namespace lokal::vk
