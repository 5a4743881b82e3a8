// VkResult to lokal::Error: every Vulkan call that returns a VkResult goes through vk_check.
#pragma once

#include <vulkan/vulkan.h>

#include <string>

namespace lokal::vk {

// "VK_ERROR_OUT_OF_DEVICE_MEMORY", ...; "VkResult <n>" for codes we do not name.
std::string vk_result_name(VkResult r);

// Throws lokal::Error when r is an error: "Vulkan: <what> failed: <name> (<meaning>)". Out of
// memory (host or device) and a lost device are I/O errors (the system failed us); a missing
// feature, extension or driver is Unsupported; anything else is Internal.
void vk_check(VkResult r, const char* what);

}  // namespace lokal::vk
