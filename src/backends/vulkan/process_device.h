// The process's Vulkan instance and devices, made on first use and kept until exit: every
// model and context on a device shares one VkDevice (and its memory budget). They are never
// destroyed: destroying the instance unloads the driver, and the allocations Mesa's lavapipe
// keeps until exit would then be reported by the leak checker with no module to name them.
#pragma once

#include <string>
#include <vector>

#include "backends/vulkan/device.h"
#include "backends/vulkan/device_info.h"

namespace lokal::vk {

// Every Vulkan device the loader sees (empty, with the reason in *why, when there is none).
const std::vector<DeviceInfo>& process_device_infos(std::string* why);
// Device `index` of that list; throws lokal::Error when it cannot be opened.
const Device& process_device(int index);

}  // namespace lokal::vk
