#include "backends/vulkan/instance.h"

#include <cstdint>

#include "backends/vulkan/loader.h"
#include "backends/vulkan/vk_check.h"
#include "base/error.h"

namespace lokal::vk {

std::unique_ptr<Instance> Instance::create(std::string* why) {
    if (!load_vulkan(why)) return nullptr;
    uint32_t version = 0;
    if (vkEnumerateInstanceVersion(&version) != VK_SUCCESS || version < VK_API_VERSION_1_1) {
        if (why) *why = "the Vulkan loader does not offer Vulkan 1.1";
        return nullptr;
    }
    VkApplicationInfo app{};
    app.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO;
    app.pApplicationName = "lokal";
    app.pEngineName = "lokal";
    app.apiVersion = VK_API_VERSION_1_1;
    VkInstanceCreateInfo info{};
    info.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO;
    info.pApplicationInfo = &app;
    VkInstance handle = VK_NULL_HANDLE;
    const VkResult r = vkCreateInstance(&info, nullptr, &handle);
    if (r != VK_SUCCESS) {
        if (why) {
            *why = r == VK_ERROR_INCOMPATIBLE_DRIVER
                       ? "no Vulkan driver is installed (VK_ERROR_INCOMPATIBLE_DRIVER)"
                       : "vkCreateInstance failed: " + vk_result_name(r);
        }
        return nullptr;
    }
    return std::unique_ptr<Instance>(new Instance(handle));
}

Instance::Instance(VkInstance instance) : instance_(instance) {
    try {
        uint32_t n = 0;
        vk_check(vkEnumeratePhysicalDevices(instance_, &n, nullptr), "listing devices");
        physical_.resize(n);
        vk_check(vkEnumeratePhysicalDevices(instance_, &n, physical_.data()), "listing devices");
        physical_.resize(n);
    } catch (...) {
        vkDestroyInstance(instance_, nullptr);
        throw;
    }
}

Instance::~Instance() {
    vkDestroyInstance(instance_, nullptr);
}

}  // namespace lokal::vk
