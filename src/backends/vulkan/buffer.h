// A storage buffer and its memory. Device-local buffers hold weights and activations; host
// buffers are mapped for staging uploads and reading results back.
#pragma once

#include <vulkan/vulkan.h>

#include <cstdint>

#include "backends/vulkan/device.h"

namespace lokal::vk {

enum class MemoryKind {
    DeviceLocal,  // the GPU's own memory where it has some; never mapped here
    Host,         // host-visible and coherent (cached where offered), mapped for its lifetime
};

class Buffer {
  public:
    // `bytes` is rounded up to whole 32-bit words (shaders read words); `what` names the buffer
    // in an out-of-memory error ("weights of blk.0.attn_q.weight").
    Buffer(const Device& device, uint64_t bytes, MemoryKind kind, const char* what);
    ~Buffer();
    Buffer(Buffer&& other) noexcept;
    Buffer& operator=(Buffer&&) = delete;
    Buffer(const Buffer&) = delete;
    Buffer& operator=(const Buffer&) = delete;

    VkBuffer handle() const { return buffer_; }
    uint64_t size() const { return size_; }  // rounded
    MemoryKind kind() const { return kind_; }
    void* mapped() const { return mapped_; }  // Host buffers only; nullptr otherwise

  private:
    const Device* device_;
    uint64_t size_ = 0;
    MemoryKind kind_;
    VkBuffer buffer_ = VK_NULL_HANDLE;
    VkDeviceMemory memory_ = VK_NULL_HANDLE;
    void* mapped_ = nullptr;
};

}  // namespace lokal::vk
