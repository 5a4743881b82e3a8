#include "backends/vulkan/device_info.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "backends/vulkan/loader.h"
#include "backends/vulkan/vk_check.h"

namespace lokal::vk {
namespace {

DeviceType to_device_type(VkPhysicalDeviceType t) {
    switch (t) {
        case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU:
            return DeviceType::Discrete;
        case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU:
            return DeviceType::Integrated;
        case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU:
            return DeviceType::Virtual;
        case VK_PHYSICAL_DEVICE_TYPE_CPU:
            return DeviceType::Cpu;
        default:
            return DeviceType::Other;
    }
}

std::vector<std::string> extension_names(VkPhysicalDevice device) {
    uint32_t n = 0;
    vk_check(vkEnumerateDeviceExtensionProperties(device, nullptr, &n, nullptr),
             "listing device extensions");
    std::vector<VkExtensionProperties> props(n);
    vk_check(vkEnumerateDeviceExtensionProperties(device, nullptr, &n, props.data()),
             "listing device extensions");
    std::vector<std::string> names;
    for (uint32_t i = 0; i < n; ++i) names.emplace_back(props[i].extensionName);
    return names;
}

bool has(const std::vector<std::string>& names, const char* name) {
    return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace

const char* device_type_name(DeviceType t) {
    switch (t) {
        case DeviceType::Discrete:
            return "discrete";
        case DeviceType::Integrated:
            return "integrated";
        case DeviceType::Virtual:
            return "virtual";
        case DeviceType::Cpu:
            return "cpu";
        case DeviceType::Other:
            break;
    }
    return "other";
}

DeviceInfo describe_device(VkPhysicalDevice device, int index) {
    VkPhysicalDeviceProperties base{};
    vkGetPhysicalDeviceProperties(device, &base);
    const std::vector<std::string> extensions = extension_names(device);
    const bool vk12 = base.apiVersion >= VK_API_VERSION_1_2;

    // Vulkan 1.1 properties, plus the 1.2 driver name where the device has it.
    VkPhysicalDeviceSubgroupProperties subgroup{};
    subgroup.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES;
    VkPhysicalDeviceDriverProperties driver{};
    driver.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES;
    if (vk12 || has(extensions, VK_KHR_DRIVER_PROPERTIES_EXTENSION_NAME)) {
        subgroup.pNext = &driver;
    }
    VkPhysicalDeviceProperties2 props{};
    props.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2;
    props.pNext = &subgroup;
    vkGetPhysicalDeviceProperties2(device, &props);

    VkPhysicalDevice16BitStorageFeatures storage16{};
    storage16.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES;
    VkPhysicalDeviceShaderFloat16Int8Features f16i8{};
    f16i8.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES;
    if (vk12 || has(extensions, VK_KHR_SHADER_FLOAT16_INT8_EXTENSION_NAME)) {
        storage16.pNext = &f16i8;
    }
    VkPhysicalDeviceFeatures2 features{};
    features.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2;
    features.pNext = &storage16;
    vkGetPhysicalDeviceFeatures2(device, &features);

    VkPhysicalDeviceMemoryBudgetPropertiesEXT budget{};
    budget.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_BUDGET_PROPERTIES_EXT;
    const bool has_budget = has(extensions, VK_EXT_MEMORY_BUDGET_EXTENSION_NAME);
    VkPhysicalDeviceMemoryProperties2 memory2{};
    memory2.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PROPERTIES_2;
    if (has_budget) memory2.pNext = &budget;
    vkGetPhysicalDeviceMemoryProperties2(device, &memory2);
    const VkPhysicalDeviceMemoryProperties& memory = memory2.memoryProperties;

    DeviceInfo info;
    info.index = index;
    info.name = base.deviceName;
    info.type = to_device_type(base.deviceType);
    info.api_version = base.apiVersion;
    if (subgroup.pNext) info.driver = driver.driverName;
    for (uint32_t h = 0; h < memory.memoryHeapCount; ++h) {
        if (memory.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) {
            info.device_local_bytes =
                std::max<uint64_t>(info.device_local_bytes, memory.memoryHeaps[h].size);
        }
    }
    info.subgroup_size = subgroup.subgroupSize;
    info.subgroup_arithmetic = (subgroup.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) &&
                               (subgroup.supportedOperations & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT);
    info.fp16 = f16i8.shaderFloat16;
    info.int8 = f16i8.shaderInt8;
    info.storage16 = storage16.storageBuffer16BitAccess;
    info.cooperative_matrix =
        has(extensions, "VK_KHR_cooperative_matrix") || has(extensions, "VK_NV_cooperative_matrix");
    info.max_storage_buffer_bytes = base.limits.maxStorageBufferRange;
    return info;
}

}  // namespace lokal::vk
