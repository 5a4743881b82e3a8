// A logical device with one compute queue, and the facts about it that buffers and pipelines
// need (memory types, limits). Command streams on several threads may submit to its queue (two
// contexts of one process run at once); submit() serialises them, as Vulkan requires.
#pragma once

#include <vulkan/vulkan.h>

#include <atomic>
#include <cstdint>
#include <mutex>

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
    uint32_t queue_family() const { return queue_family_; }
    const DeviceInfo& info() const { return info_; }
    const VkPhysicalDeviceLimits& limits() const { return limits_; }
    bool has_timestamps() const { return timestamp_bits_ > 0; }

    // vkQueueSubmit on the queue, one thread at a time.
    VkResult submit(const VkSubmitInfo& info, VkFence fence) const;

    // Device-local memory this process holds on the device now (Buffer counts it).
    uint64_t device_local_in_use() const { return device_local_in_use_.load(); }
    void count_device_local(int64_t delta) const { device_local_in_use_ += (uint64_t)delta; }

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
    mutable std::mutex queue_mutex_;
    mutable std::atomic<uint64_t> device_local_in_use_{0};
};

}  // namespace lokal::vk
