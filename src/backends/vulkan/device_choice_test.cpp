#include "backends/vulkan/device_choice.h"

#include <gtest/gtest.h>

#include "base/error.h"

namespace lokal::vk {
namespace {

DeviceInfo device(int index, DeviceType type, uint64_t gib) {
    DeviceInfo d;
    d.index = index;
    d.name = "dev" + std::to_string(index);
    d.type = type;
    d.device_local_bytes = gib << 30;
    return d;
}

TEST(DeviceRequest, ParsesEveryForm) {
    EXPECT_EQ(parse_device_request("").kind, DeviceRequest::Kind::Auto);
    EXPECT_EQ(parse_device_request("auto").kind, DeviceRequest::Kind::Auto);
    EXPECT_EQ(parse_device_request("cpu").kind, DeviceRequest::Kind::Cpu);
    EXPECT_EQ(parse_device_request("vulkan").kind, DeviceRequest::Kind::Vulkan);
    EXPECT_EQ(parse_device_request("vulkan").index, -1);
    EXPECT_EQ(parse_device_request("vulkan:2").index, 2);
    for (const char* bad : {"gpu", "vulkan:", "vulkan:-1", "vulkan:1x", "Vulkan", "cuda:0"}) {
        EXPECT_THROW(parse_device_request(bad), Error) << bad;
    }
}

TEST(DeviceChoice, AutoPicksTheBestGpuAndNeverASoftwareDevice) {
    const std::vector<DeviceInfo> devices = {
        device(0, DeviceType::Cpu, 64), device(1, DeviceType::Integrated, 16),
        device(2, DeviceType::Discrete, 8), device(3, DeviceType::Discrete, 24)};
    EXPECT_EQ(choose_device({}, devices, "").vulkan_index, 3);
    const std::vector<DeviceInfo> software = {device(0, DeviceType::Cpu, 64)};
    const DeviceChoice c = choose_device({}, software, "");
    EXPECT_FALSE(c.vulkan_index);
    EXPECT_NE(c.reason.find("software"), std::string::npos) << c.reason;
    EXPECT_FALSE(choose_device({}, {}, "no loader").vulkan_index);
}

TEST(DeviceChoice, VulkanTakesSoftwareDevicesAndNamedIndexes) {
    const std::vector<DeviceInfo> software = {device(0, DeviceType::Cpu, 64)};
    EXPECT_EQ(choose_device(parse_device_request("vulkan"), software, "").vulkan_index, 0);
    EXPECT_EQ(choose_device(parse_device_request("vulkan:0"), software, "").vulkan_index, 0);
    EXPECT_FALSE(choose_device(parse_device_request("cpu"), software, "").vulkan_index);
}

TEST(DeviceChoice, AMissingDeviceIsAnError) {
    const std::vector<DeviceInfo> one = {device(0, DeviceType::Discrete, 8)};
    try {
        choose_device(parse_device_request("vulkan:1"), one, "");
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::InvalidInput);
        EXPECT_NE(std::string(e.what()).find("there is 1 Vulkan device"), std::string::npos)
            << e.what();
    }
    try {
        choose_device(parse_device_request("vulkan"), {}, "no Vulkan loader");
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Unsupported);
        EXPECT_NE(std::string(e.what()).find("no Vulkan loader"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace lokal::vk
