// The Vulkan instance and the physical devices it sees.
#pragma once

#include <vulkan/vulkan.h>

#include <memory>
#include <string>
#include <vector>

namespace lokal::vk {

class Instance {
  public:
    // nullptr, with the reason in *why, when there is no loader, no Vulkan 1.1 or the instance
    // cannot be created: the caller falls back to the CPU.
    static std::unique_ptr<Instance> create(std::string* why);
    ~Instance();
    Instance(const Instance&) = delete;
    Instance& operator=(const Instance&) = delete;

    VkInstance handle() const { return instance_; }
    // In the loader's order; LOKAL_DEVICE=vulkan:N indexes this list.
    const std::vector<VkPhysicalDevice>& physical_devices() const { return physical_; }

  private:
    explicit Instance(VkInstance instance);
    VkInstance instance_;
    std::vector<VkPhysicalDevice> physical_;
};

}  // namespace lokal::vk
