// The workgroup grid for "one workgroup per row": rows fill x up to the device's limit and go
// on in z (shaders compute row = z * gl_NumWorkGroups.x + x and skip rows past the end).
#pragma once

#include <cstdint>

#include "backends/vulkan/compute_pipeline.h"

namespace lokal::vk {

inline Groups row_groups(const Device& device, uint32_t rows, uint32_t y = 1) {
    const uint32_t max_x = device.limits().maxComputeWorkGroupCount[0];
    const uint32_t x = rows < max_x ? rows : max_x;
    return {x == 0 ? 1 : x, y, x == 0 ? 1 : (rows + x - 1) / x};
}

}  // namespace lokal::vk
