#include "backends/vulkan/command_stream.h"

#include "backends/vulkan/loader.h"
#include "backends/vulkan/vk_check.h"
#include "base/error.h"

namespace lokal::vk {
namespace {

constexpr uint32_t kBuffersPerSet = 8;  // the most storage buffers one of our shaders binds
// A hung or lost device should end in an error, not a process that waits forever.
constexpr uint64_t kFenceTimeoutNs = 600ull * 1000 * 1000 * 1000;

}  // namespace

CommandStream::CommandStream(const Device& device, uint32_t max_sets)
    : device_(device), max_sets_(max_sets) {
    const VkDevice dev = device_.handle();
    try {
        VkCommandPoolCreateInfo pool_info{};
        pool_info.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO;
        pool_info.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
        pool_info.queueFamilyIndex = device_.queue_family();
        vk_check(vkCreateCommandPool(dev, &pool_info, nullptr, &pool_), "creating a command pool");

        VkCommandBufferAllocateInfo alloc{};
        alloc.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO;
        alloc.commandPool = pool_;
        alloc.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
        alloc.commandBufferCount = 1;
        vk_check(vkAllocateCommandBuffers(dev, &alloc, &cmd_), "allocating a command buffer");

        VkFenceCreateInfo fence_info{};
        fence_info.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO;
        vk_check(vkCreateFence(dev, &fence_info, nullptr, &fence_), "creating a fence");

        VkDescriptorPoolSize size{};
        size.type = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
        size.descriptorCount = max_sets_ * kBuffersPerSet;
        VkDescriptorPoolCreateInfo desc_info{};
        desc_info.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO;
        desc_info.maxSets = max_sets_;
        desc_info.poolSizeCount = 1;
        desc_info.pPoolSizes = &size;
        vk_check(vkCreateDescriptorPool(dev, &desc_info, nullptr, &descriptors_),
                 "creating a descriptor pool");
    } catch (...) {
        release();
        throw;
    }
}

CommandStream::~CommandStream() {
    release();
}

void CommandStream::release() {
    const VkDevice dev = device_.handle();
    if (recording_) vkEndCommandBuffer(cmd_);
    recording_ = false;
    if (descriptors_) vkDestroyDescriptorPool(dev, descriptors_, nullptr);
    if (fence_) vkDestroyFence(dev, fence_, nullptr);
    if (pool_) vkDestroyCommandPool(dev, pool_, nullptr);  // frees cmd_
    descriptors_ = VK_NULL_HANDLE;
    fence_ = VK_NULL_HANDLE;
    pool_ = VK_NULL_HANDLE;
}

VkCommandBuffer CommandStream::cmd() {
    if (!recording_) {
        VkCommandBufferBeginInfo begin{};
        begin.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO;
        begin.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
        vk_check(vkBeginCommandBuffer(cmd_, &begin), "beginning a command buffer");
        recording_ = true;
    }
    return cmd_;
}

VkDescriptorSet CommandStream::allocate_set(VkDescriptorSetLayout layout) {
    if (sets_used_ == max_sets_) {
        throw Error(
            "Vulkan: more than " + std::to_string(max_sets_) + " dispatches in one command stream",
            ErrorKind::Internal);
    }
    VkDescriptorSetAllocateInfo alloc{};
    alloc.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO;
    alloc.descriptorPool = descriptors_;
    alloc.descriptorSetCount = 1;
    alloc.pSetLayouts = &layout;
    VkDescriptorSet set = VK_NULL_HANDLE;
    vk_check(vkAllocateDescriptorSets(device_.handle(), &alloc, &set),
             "allocating a descriptor set");
    ++sets_used_;
    return set;
}

void CommandStream::barrier() {
    VkMemoryBarrier b{};
    b.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER;
    b.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
    b.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
                      VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
    const VkPipelineStageFlags stages =
        VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
    vkCmdPipelineBarrier(cmd(), stages, stages, 0, 1, &b, 0, nullptr, 0, nullptr);
}

void CommandStream::submit_and_wait() {
    if (!recording_) return;  // nothing recorded; everything submitted before has finished
    // Host reads of mapped memory see the device's writes once the fence has signalled.
    VkMemoryBarrier to_host{};
    to_host.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER;
    to_host.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
    to_host.dstAccessMask = VK_ACCESS_HOST_READ_BIT;
    vkCmdPipelineBarrier(cmd(),
                         VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                         VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &to_host, 0, nullptr, 0, nullptr);
    recording_ = false;
    vk_check(vkEndCommandBuffer(cmd_), "ending a command buffer");
    VkSubmitInfo submit{};
    submit.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO;
    submit.commandBufferCount = 1;
    submit.pCommandBuffers = &cmd_;
    const VkDevice dev = device_.handle();
    vk_check(device_.submit(submit, fence_), "submitting commands");
    vk_check(vkWaitForFences(dev, 1, &fence_, VK_TRUE, kFenceTimeoutNs), "waiting for the device");
    vk_check(vkResetFences(dev, 1, &fence_), "resetting a fence");
    vk_check(vkResetCommandBuffer(cmd_, 0), "resetting a command buffer");
    vk_check(vkResetDescriptorPool(dev, descriptors_, 0), "resetting a descriptor pool");
    sets_used_ = 0;
}

}  // namespace lokal::vk
