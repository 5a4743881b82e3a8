// One command buffer with its fence and descriptor pool: record dispatches and copies, then
// submit and wait. Descriptor sets live until the next submit_and_wait.
#pragma once

#include <vulkan/vulkan.h>

#include <cstdint>

#include "backends/vulkan/device.h"

namespace lokal::vk {

class CommandStream {
  public:
    // max_sets: the most dispatches one recording may hold.
    explicit CommandStream(const Device& device, uint32_t max_sets = 1024);
    ~CommandStream();
    CommandStream(const CommandStream&) = delete;
    CommandStream& operator=(const CommandStream&) = delete;

    const Device& device() const { return device_; }

    // The command buffer being recorded; begins a recording if none is open.
    VkCommandBuffer cmd();
    VkDescriptorSet allocate_set(VkDescriptorSetLayout layout);
    // Dispatches this recording still has room for (submit_and_wait makes room for max_sets).
    uint32_t sets_left() const { return max_sets_ - sets_used_; }
    // Earlier shader and transfer writes become visible to later shader and transfer accesses.
    void barrier();
    // Ends the recording, submits it and waits until the device has run it (nothing to do when
    // nothing was recorded).
    void submit_and_wait();

  private:
    void release();

    const Device& device_;
    uint32_t max_sets_;
    uint32_t sets_used_ = 0;
    VkCommandPool pool_ = VK_NULL_HANDLE;
    VkCommandBuffer cmd_ = VK_NULL_HANDLE;
    VkFence fence_ = VK_NULL_HANDLE;
    VkDescriptorPool descriptors_ = VK_NULL_HANDLE;
    bool recording_ = false;
};

}  // namespace lokal::vk
