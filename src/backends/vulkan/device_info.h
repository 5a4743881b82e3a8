// What `lokal devices` shows of a Vulkan device, and what the device choice reads.
#pragma once

#include <vulkan/vulkan.h>

#include <cstdint>
#include <string>

namespace lokal::vk {

enum class DeviceType { Discrete, Integrated, Virtual, Cpu, Other };

const char* device_type_name(DeviceType t);  // "discrete", "integrated", "virtual", "cpu"

struct DeviceInfo {
    int index = 0;  // in the loader's order: LOKAL_DEVICE=vulkan:<index>
    std::string name;
    DeviceType type = DeviceType::Other;
    uint32_t api_version = 0;
    std::string driver;               // "llvmpipe", "NVIDIA"; empty before Vulkan 1.2 drivers
    uint64_t device_local_bytes = 0;  // the largest device-local heap
    // What this process may still allocate there (VK_EXT_memory_budget); 0: the driver does
    // not say.
    uint64_t device_local_free_bytes = 0;
    uint32_t subgroup_size = 0;
    bool subgroup_arithmetic = false;       // subgroupAdd & co. in compute shaders
    bool fp16 = false;                      // shaderFloat16
    bool int8 = false;                      // shaderInt8
    bool storage16 = false;                 // 16-bit values in storage buffers
    bool cooperative_matrix = false;        // VK_KHR_cooperative_matrix (or the NV one)
    uint64_t max_storage_buffer_bytes = 0;  // the most one shader binding can see
};

DeviceInfo describe_device(VkPhysicalDevice device, int index);

}  // namespace lokal::vk
