#include "backends/vulkan/buffer.h"

#include <string>

#include "backends/vulkan/loader.h"
#include "backends/vulkan/vk_check.h"
#include "base/error.h"

namespace lokal::vk {
namespace {

std::string mib(uint64_t bytes) {
    return std::to_string((bytes + (1 << 20) - 1) >> 20) + " MiB";
}

}  // namespace

Buffer::Buffer(const Device& device, uint64_t bytes, MemoryKind kind, const char* what)
    : device_(&device), size_((bytes + 3) / 4 * 4), kind_(kind) {
    if (size_ == 0) size_ = 4;  // Vulkan has no empty buffers
    const VkDevice dev = device.handle();
    VkBufferCreateInfo info{};
    info.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO;
    info.size = size_;
    info.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                 VK_BUFFER_USAGE_TRANSFER_DST_BIT;
    info.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
    vk_check(vkCreateBuffer(dev, &info, nullptr, &buffer_), "creating a buffer");

    VkMemoryRequirements req{};
    vkGetBufferMemoryRequirements(dev, buffer_, &req);
    const int type =
        kind == MemoryKind::DeviceLocal
            ? device.find_memory_type(req.memoryTypeBits, 0, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT)
            : device.find_memory_type(
                  req.memoryTypeBits,
                  VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
                  VK_MEMORY_PROPERTY_HOST_CACHED_BIT);
    if (type < 0) {
        vkDestroyBuffer(dev, buffer_, nullptr);
        throw Error("Vulkan device " + device.info().name + " offers no memory for " + what,
                    ErrorKind::Unsupported);
    }
    VkMemoryAllocateInfo alloc{};
    alloc.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO;
    alloc.allocationSize = req.size;
    alloc.memoryTypeIndex = static_cast<uint32_t>(type);
    const VkResult r = vkAllocateMemory(dev, &alloc, nullptr, &memory_);
    if (r == VK_ERROR_OUT_OF_DEVICE_MEMORY || r == VK_ERROR_OUT_OF_HOST_MEMORY) {
        vkDestroyBuffer(dev, buffer_, nullptr);
        throw Error(std::string("out of ") + (r == VK_ERROR_OUT_OF_DEVICE_MEMORY ? "GPU" : "host") +
                        " memory: cannot allocate " + mib(size_) + " for " + what + " on " +
                        device.info().name + " (" + mib(device.info().device_local_bytes) +
                        " of device memory in all)",
                    ErrorKind::Io);
    }
    try {
        vk_check(r, "allocating device memory");
        vk_check(vkBindBufferMemory(dev, buffer_, memory_, 0), "binding buffer memory");
        if (kind == MemoryKind::Host) {
            vk_check(vkMapMemory(dev, memory_, 0, VK_WHOLE_SIZE, 0, &mapped_), "mapping memory");
        }
    } catch (...) {
        if (memory_) vkFreeMemory(dev, memory_, nullptr);
        vkDestroyBuffer(dev, buffer_, nullptr);
        throw;
    }
    if (kind == MemoryKind::DeviceLocal) device.count_device_local((int64_t)size_);
}

Buffer::Buffer(Buffer&& other) noexcept
    : device_(other.device_),
      size_(other.size_),
      kind_(other.kind_),
      buffer_(other.buffer_),
      memory_(other.memory_),
      mapped_(other.mapped_) {
    other.buffer_ = VK_NULL_HANDLE;
    other.memory_ = VK_NULL_HANDLE;
    other.mapped_ = nullptr;
}

Buffer::~Buffer() {
    const VkDevice dev = device_->handle();
    if (mapped_) vkUnmapMemory(dev, memory_);
    if (buffer_) vkDestroyBuffer(dev, buffer_, nullptr);
    if (memory_) {
        vkFreeMemory(dev, memory_, nullptr);
        if (kind_ == MemoryKind::DeviceLocal) device_->count_device_local(-(int64_t)size_);
    }
}

}  // namespace lokal::vk
