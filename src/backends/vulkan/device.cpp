#include "backends/vulkan/device.h"

#include <vector>

#include "backends/vulkan/loader.h"
#include "backends/vulkan/vk_check.h"
#include "base/error.h"

namespace lokal::vk {

Device::Device(const Instance& instance, int index) {
    const auto& devices = instance.physical_devices();
    if (index < 0 || index >= static_cast<int>(devices.size())) {
        throw Error("no Vulkan device vulkan:" + std::to_string(index), ErrorKind::NotFound);
    }
    physical_ = devices[static_cast<size_t>(index)];
    info_ = describe_device(physical_, index);
    VkPhysicalDeviceProperties props{};
    vkGetPhysicalDeviceProperties(physical_, &props);
    limits_ = props.limits;
    vkGetPhysicalDeviceMemoryProperties(physical_, &memory_);

    uint32_t n_families = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(physical_, &n_families, nullptr);
    std::vector<VkQueueFamilyProperties> families(n_families);
    vkGetPhysicalDeviceQueueFamilyProperties(physical_, &n_families, families.data());
    // Prefer a compute-only family (a GPU's asynchronous compute queue), else any with compute.
    int chosen = -1;
    for (uint32_t f = 0; f < n_families; ++f) {
        const VkQueueFlags flags = families[f].queueFlags;
        if (!(flags & VK_QUEUE_COMPUTE_BIT)) continue;
        if (chosen < 0 || !(flags & VK_QUEUE_GRAPHICS_BIT)) chosen = static_cast<int>(f);
        if (!(flags & VK_QUEUE_GRAPHICS_BIT)) break;
    }
    if (chosen < 0) {
        throw Error("Vulkan device " + info_.name + " has no compute queue",
                    ErrorKind::Unsupported);
    }
    queue_family_ = static_cast<uint32_t>(chosen);
    timestamp_bits_ = families[queue_family_].timestampValidBits;

    const float priority = 1.0f;
    VkDeviceQueueCreateInfo queue_info{};
    queue_info.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO;
    queue_info.queueFamilyIndex = queue_family_;
    queue_info.queueCount = 1;
    queue_info.pQueuePriorities = &priority;
    VkDeviceCreateInfo info{};
    info.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO;
    info.queueCreateInfoCount = 1;
    info.pQueueCreateInfos = &queue_info;
    vk_check(vkCreateDevice(physical_, &info, nullptr, &device_), "creating the logical device");
    vkGetDeviceQueue(device_, queue_family_, 0, &queue_);
}

Device::~Device() {
    vkDeviceWaitIdle(device_);  // nothing may still run on memory its owners free
    vkDestroyDevice(device_, nullptr);
}

VkResult Device::submit(const VkSubmitInfo& info, VkFence fence) const {
    const std::lock_guard lock(queue_mutex_);
    return vkQueueSubmit(queue_, 1, &info, fence);
}

int Device::find_memory_type(uint32_t allowed_bits, VkMemoryPropertyFlags required,
                             VkMemoryPropertyFlags preferred) const {
    int fallback = -1;
    for (uint32_t i = 0; i < memory_.memoryTypeCount; ++i) {
        if (!(allowed_bits & (1u << i))) continue;
        const VkMemoryPropertyFlags flags = memory_.memoryTypes[i].propertyFlags;
        if ((flags & required) != required) continue;
        if ((flags & preferred) == preferred) return static_cast<int>(i);
        if (fallback < 0) fallback = static_cast<int>(i);
    }
    return fallback;
}

}  // namespace lokal::vk
