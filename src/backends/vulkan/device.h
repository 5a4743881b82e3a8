// A logical device with one compute queue, and the facts about it that buffers and pipelines
// need (memory types, limits).
#pragma once

#include <vulkan/vulkan.h>

#include <cstdint>

#include "backends/vulkan/device_info.h"
#include "backends/vulkan/instance.h"

namespace lokal::vk {

class Device {
  public:
    // Device `index` of instance.physical_devices(); the instance must outlive it.
    Device(const Instance& instance, int index);
    ~Device();
    Device(const Device&) = delete;
    Device& operator=(const Device&) = delete;

    VkDevice handle() const { return device_; }
    VkQueue queue() const { return queue_; }
    uint32_t queue_family() const { return queue_family_; }
    const DeviceInfo& info() const { return info_; }
    const VkPhysicalDeviceLimits& limits() const { return limits_; }
    bool has_timestamps() const { return timestamp_bits_ > 0; }

    // A memory type among allowed_bits (VkMemoryRequirements::memoryTypeBits) that has all of
    // `required`, preferring one that also has all of `preferred`; -1 when none has `required`.
    int find_memory_type(uint32_t allowed_bits, VkMemoryPropertyFlags required,
                         VkMemoryPropertyFlags preferred) const;

  private:
    VkPhysicalDevice physical_ = VK_NULL_HANDLE;
    VkDevice device_ = VK_NULL_HANDLE;
    VkQueue queue_ = VK_NULL_HANDLE;
    uint32_t queue_family_ = 0;
    uint32_t timestamp_bits_ = 0;
    DeviceInfo info_;
    VkPhysicalDeviceLimits limits_{};
    VkPhysicalDeviceMemoryProperties memory_{};
};

}  // namespace lokal::vk
