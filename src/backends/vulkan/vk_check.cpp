#include "backends/vulkan/vk_check.h"

#include "base/error.h"

namespace lokal::vk {
namespace {

struct ResultText {
    const char* name;
    const char* meaning;
    ErrorKind kind;
};

ResultText describe(VkResult r) {
    switch (r) {
        case VK_ERROR_OUT_OF_HOST_MEMORY:
            return {"VK_ERROR_OUT_OF_HOST_MEMORY", "out of system memory", ErrorKind::Io};
        case VK_ERROR_OUT_OF_DEVICE_MEMORY:
            return {"VK_ERROR_OUT_OF_DEVICE_MEMORY", "out of GPU memory", ErrorKind::Io};
        case VK_ERROR_INITIALIZATION_FAILED:
            return {"VK_ERROR_INITIALIZATION_FAILED", "the driver failed to initialise",
                    ErrorKind::Unsupported};
        case VK_ERROR_DEVICE_LOST:
            return {"VK_ERROR_DEVICE_LOST", "the GPU was lost (driver reset or hang)",
                    ErrorKind::Io};
        case VK_ERROR_LAYER_NOT_PRESENT:
            return {"VK_ERROR_LAYER_NOT_PRESENT", "a layer is missing", ErrorKind::Unsupported};
        case VK_ERROR_EXTENSION_NOT_PRESENT:
            return {"VK_ERROR_EXTENSION_NOT_PRESENT", "the driver lacks an extension",
                    ErrorKind::Unsupported};
        case VK_ERROR_FEATURE_NOT_PRESENT:
            return {"VK_ERROR_FEATURE_NOT_PRESENT", "the device lacks a feature",
                    ErrorKind::Unsupported};
        case VK_ERROR_INCOMPATIBLE_DRIVER:
            return {"VK_ERROR_INCOMPATIBLE_DRIVER", "no driver supports Vulkan 1.1",
                    ErrorKind::Unsupported};
        case VK_ERROR_TOO_MANY_OBJECTS:
            return {"VK_ERROR_TOO_MANY_OBJECTS", "too many objects", ErrorKind::Internal};
        case VK_ERROR_FRAGMENTED_POOL:
            return {"VK_ERROR_FRAGMENTED_POOL", "a pool is fragmented", ErrorKind::Internal};
        case VK_ERROR_OUT_OF_POOL_MEMORY:
            return {"VK_ERROR_OUT_OF_POOL_MEMORY", "a descriptor pool is full",
                    ErrorKind::Internal};
        case VK_ERROR_MEMORY_MAP_FAILED:
            return {"VK_ERROR_MEMORY_MAP_FAILED", "memory could not be mapped", ErrorKind::Io};
        case VK_TIMEOUT:
            return {"VK_TIMEOUT", "timed out", ErrorKind::Io};
        case VK_NOT_READY:
            return {"VK_NOT_READY", "not ready", ErrorKind::Internal};
        case VK_INCOMPLETE:
            return {"VK_INCOMPLETE", "a list was cut short", ErrorKind::Internal};
        default:
            return {nullptr, "unknown error", ErrorKind::Internal};
    }
}

}  // namespace

std::string vk_result_name(VkResult r) {
    if (r == VK_SUCCESS) return "VK_SUCCESS";
    const ResultText t = describe(r);
    return t.name ? t.name : "VkResult " + std::to_string(static_cast<int>(r));
}

void vk_check(VkResult r, const char* what) {
    if (r >= 0 && r != VK_TIMEOUT && r != VK_NOT_READY) return;  // success codes
    const ResultText t = describe(r);
    throw Error(
        std::string("Vulkan: ") + what + " failed: " + vk_result_name(r) + " (" + t.meaning + ")",
        t.kind);
}

}  // namespace lokal::vk
