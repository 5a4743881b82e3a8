// The GELU table the shaders look up (shaders/gelu_f16.glsl): entry h is what the CPU kernel
// gives for the F16 value of bits h, so the device's GELU matches the CPU's bit for bit.
#pragma once

#include <vector>

#include "backends/vulkan/buffer.h"
#include "backends/vulkan/device.h"

namespace lokal::vk {

// 65536 floats, from kernels::gelu_inplace.
std::vector<float> gelu_f16_table();

// The table in device-local memory, uploaded (submitted and waited for) on a stream of its own.
Buffer make_gelu_table_buffer(const Device& device);

}  // namespace lokal::vk
