#include "backends/vulkan/vk_check.h"

#include <gtest/gtest.h>

#include <string>

#include "backends/vulkan/embedded_shaders.h"
#include "base/error.h"

namespace lokal::vk {
namespace {

ErrorKind kind_of(VkResult r) {
    try {
        vk_check(r, "testing");
    } catch (const Error& e) {
        return e.kind();
    }
    ADD_FAILURE() << vk_result_name(r) << " did not throw";
    return ErrorKind::Internal;
}

TEST(VkCheck, SuccessCodesPassAndErrorsSayWhatFailed) {
    EXPECT_NO_THROW(vk_check(VK_SUCCESS, "x"));
    EXPECT_NO_THROW(vk_check(VK_INCOMPLETE, "x"));
    try {
        vk_check(VK_ERROR_OUT_OF_DEVICE_MEMORY, "allocating the weights");
        FAIL();
    } catch (const Error& e) {
        EXPECT_STREQ(e.what(),
                     "Vulkan: allocating the weights failed: VK_ERROR_OUT_OF_DEVICE_MEMORY (out "
                     "of GPU memory)");
    }
}

TEST(VkCheck, KindsSayWhoCanFixIt) {
    EXPECT_EQ(kind_of(VK_ERROR_OUT_OF_DEVICE_MEMORY), ErrorKind::Io);
    EXPECT_EQ(kind_of(VK_ERROR_DEVICE_LOST), ErrorKind::Io);
    EXPECT_EQ(kind_of(VK_TIMEOUT), ErrorKind::Io);
    EXPECT_EQ(kind_of(VK_ERROR_INCOMPATIBLE_DRIVER), ErrorKind::Unsupported);
    EXPECT_EQ(kind_of(VK_ERROR_FEATURE_NOT_PRESENT), ErrorKind::Unsupported);
    EXPECT_EQ(kind_of(VK_ERROR_FRAGMENTED_POOL), ErrorKind::Internal);
    EXPECT_EQ(vk_result_name(static_cast<VkResult>(-12345)), "VkResult -12345");
}

TEST(EmbeddedShaders, EveryShaderIsValidSpirv) {
    ASSERT_GT(kEmbeddedShaderCount, 0u);
    for (size_t i = 0; i < kEmbeddedShaderCount; ++i) {
        const auto words = embedded_spirv(kEmbeddedShaders[i].name);
        ASSERT_GE(words.size(), 5u) << kEmbeddedShaders[i].name;
        EXPECT_EQ(words[0], 0x07230203u) << kEmbeddedShaders[i].name;  // the SPIR-V magic
    }
    EXPECT_FALSE(embedded_spirv("matvec_q4_k").empty());
    try {
        embedded_spirv("no_such_shader");
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Internal);
    }
}

}  // namespace
}  // namespace lokal::vk
