#include "backends/vulkan/compute_pipeline.h"

#include <span>
#include <vector>

#include "backends/vulkan/embedded_shaders.h"
#include "backends/vulkan/loader.h"
#include "backends/vulkan/vk_check.h"
#include "base/error.h"

namespace lokal::vk {

ComputePipeline::ComputePipeline(const Device& device, std::string_view shader, uint32_t n_buffers,
                                 uint32_t push_bytes)
    : device_(device), name_(shader), n_buffers_(n_buffers), push_bytes_(push_bytes) {
    LOKAL_ASSERT(push_bytes <= 128);  // the least every device offers
    const VkDevice dev = device_.handle();
    const std::span<const uint32_t> spirv = embedded_spirv(shader);
    try {
        VkShaderModuleCreateInfo module_info{};
        module_info.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO;
        module_info.codeSize = spirv.size_bytes();
        module_info.pCode = spirv.data();
        vk_check(vkCreateShaderModule(dev, &module_info, nullptr, &module_),
                 "creating a shader module");

        std::vector<VkDescriptorSetLayoutBinding> bindings(n_buffers);
        for (uint32_t i = 0; i < n_buffers; ++i) {
            bindings[i].binding = i;
            bindings[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
            bindings[i].descriptorCount = 1;
            bindings[i].stageFlags = VK_SHADER_STAGE_COMPUTE_BIT;
        }
        VkDescriptorSetLayoutCreateInfo set_info{};
        set_info.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO;
        set_info.bindingCount = n_buffers;
        set_info.pBindings = bindings.data();
        vk_check(vkCreateDescriptorSetLayout(dev, &set_info, nullptr, &set_layout_),
                 "creating a descriptor set layout");

        VkPushConstantRange range{};
        range.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT;
        range.size = push_bytes;
        VkPipelineLayoutCreateInfo layout_info{};
        layout_info.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO;
        layout_info.setLayoutCount = 1;
        layout_info.pSetLayouts = &set_layout_;
        layout_info.pushConstantRangeCount = push_bytes ? 1 : 0;
        layout_info.pPushConstantRanges = &range;
        vk_check(vkCreatePipelineLayout(dev, &layout_info, nullptr, &layout_),
                 "creating a pipeline layout");

        VkComputePipelineCreateInfo info{};
        info.sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO;
        info.stage.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO;
        info.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
        info.stage.module = module_;
        info.stage.pName = "main";
        info.layout = layout_;
        vk_check(vkCreateComputePipelines(dev, VK_NULL_HANDLE, 1, &info, nullptr, &pipeline_),
                 ("creating the compute pipeline " + name_).c_str());
    } catch (...) {
        release();
        throw;
    }
}

ComputePipeline::~ComputePipeline() {
    release();
}

void ComputePipeline::release() {
    const VkDevice dev = device_.handle();
    if (pipeline_) vkDestroyPipeline(dev, pipeline_, nullptr);
    if (layout_) vkDestroyPipelineLayout(dev, layout_, nullptr);
    if (set_layout_) vkDestroyDescriptorSetLayout(dev, set_layout_, nullptr);
    if (module_) vkDestroyShaderModule(dev, module_, nullptr);
    pipeline_ = VK_NULL_HANDLE;
    layout_ = VK_NULL_HANDLE;
    set_layout_ = VK_NULL_HANDLE;
    module_ = VK_NULL_HANDLE;
}

void ComputePipeline::dispatch(CommandStream& stream, std::initializer_list<const Buffer*> buffers,
                               const void* push, Groups groups) const {
    LOKAL_ASSERT(buffers.size() == n_buffers_);
    const VkPhysicalDeviceLimits& limits = device_.limits();
    if (groups.x > limits.maxComputeWorkGroupCount[0] ||
        groups.y > limits.maxComputeWorkGroupCount[1] ||
        groups.z > limits.maxComputeWorkGroupCount[2]) {
        throw Error(name_ + ": a grid of " + std::to_string(groups.x) + "x" +
                        std::to_string(groups.y) + "x" + std::to_string(groups.z) +
                        " workgroups is more than " + device_.info().name + " runs at once",
                    ErrorKind::Unsupported);
    }
    std::vector<VkDescriptorBufferInfo> infos;
    infos.reserve(buffers.size());
    for (const Buffer* b : buffers) {
        if (b->size() > limits.maxStorageBufferRange) {
            throw Error(name_ + ": a buffer of " + std::to_string(b->size() >> 20) +
                            " MiB is more than one shader may read on " + device_.info().name +
                            " (" + std::to_string(limits.maxStorageBufferRange >> 20) + " MiB)",
                        ErrorKind::Unsupported);
        }
        infos.push_back({b->handle(), 0, VK_WHOLE_SIZE});
    }
    const VkDescriptorSet set = stream.allocate_set(set_layout_);
    std::vector<VkWriteDescriptorSet> writes(infos.size());
    for (size_t i = 0; i < infos.size(); ++i) {
        writes[i].sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET;
        writes[i].dstSet = set;
        writes[i].dstBinding = static_cast<uint32_t>(i);
        writes[i].descriptorCount = 1;
        writes[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
        writes[i].pBufferInfo = &infos[i];
    }
    vkUpdateDescriptorSets(device_.handle(), static_cast<uint32_t>(writes.size()), writes.data(), 0,
                           nullptr);
    const VkCommandBuffer cmd = stream.cmd();
    vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline_);
    vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, layout_, 0, 1, &set, 0, nullptr);
    if (push_bytes_) {
        vkCmdPushConstants(cmd, layout_, VK_SHADER_STAGE_COMPUTE_BIT, 0, push_bytes_, push);
    }
    vkCmdDispatch(cmd, groups.x, groups.y, groups.z);
}

}  // namespace lokal::vk
