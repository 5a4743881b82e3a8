// A compute pipeline made from an embedded shader: storage buffers at bindings 0..n-1 of set 0
// and one push-constant block.
#pragma once

#include <vulkan/vulkan.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "backends/vulkan/buffer.h"
#include "backends/vulkan/command_stream.h"
#include "backends/vulkan/device.h"

namespace lokal::vk {

struct Groups {
    uint32_t x = 1, y = 1, z = 1;
};

class ComputePipeline {
  public:
    ComputePipeline(const Device& device, std::string_view shader, uint32_t n_buffers,
                    uint32_t push_bytes);
    ~ComputePipeline();
    ComputePipeline(const ComputePipeline&) = delete;
    ComputePipeline& operator=(const ComputePipeline&) = delete;

    // Records one dispatch: `buffers` bound in order, `push` (push_bytes long) as push constants.
    // Throws lokal::Error when a buffer is larger than one binding may be on this device or the
    // grid is larger than the device allows.
    void dispatch(CommandStream& stream, std::initializer_list<const Buffer*> buffers,
                  const void* push, Groups groups) const;

  private:
    void release();

    const Device& device_;
    std::string name_;
    uint32_t n_buffers_;
    uint32_t push_bytes_;
    VkShaderModule module_ = VK_NULL_HANDLE;
    VkDescriptorSetLayout set_layout_ = VK_NULL_HANDLE;
    VkPipelineLayout layout_ = VK_NULL_HANDLE;
    VkPipeline pipeline_ = VK_NULL_HANDLE;
};

}  // namespace lokal::vk
