// The Vulkan device the backend's tests run on, made once per test binary: LOKAL_DEVICE's
// choice when it names a Vulkan device, else the best one, software devices (lavapipe) too.
// Tests derive from VulkanTest, which skips them, saying why, when there is no device, and fails
// them when CI=true (CI installs lavapipe: a missing device there is a broken setup).
//
// The instance and device are never destroyed: destroying the instance unloads the driver, and
// the few allocations Mesa's lavapipe keeps until exit would then be reported by the leak
// checker with no module to name them by (see leak_check_test.cpp).
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "backends/vulkan/command_stream.h"
#include "backends/vulkan/device.h"
#include "backends/vulkan/device_choice.h"
#include "backends/vulkan/instance.h"
#include "base/error.h"

namespace lokal::vk::testing {

struct TestGpu {
    std::unique_ptr<Instance> instance;
    std::unique_ptr<Device> device;
    std::string skip_reason;
    bool asked_for_cpu = false;  // LOKAL_DEVICE=cpu: skip, in CI too
};

inline TestGpu& test_gpu() {
    static TestGpu* gpu = new TestGpu([] {
        TestGpu g;
        std::string why;
        g.instance = Instance::create(&why);
        if (!g.instance) {
            g.skip_reason = "no Vulkan: " + why;
            return g;
        }
        std::vector<DeviceInfo> infos;
        for (size_t i = 0; i < g.instance->physical_devices().size(); ++i) {
            infos.push_back(
                describe_device(g.instance->physical_devices()[i], static_cast<int>(i)));
        }
        DeviceRequest request = device_request_from_env();
        if (request.kind == DeviceRequest::Kind::Cpu) {
            g.skip_reason = "LOKAL_DEVICE=cpu";
            g.asked_for_cpu = true;
            return g;
        }
        request.kind = DeviceRequest::Kind::Vulkan;
        if (infos.empty()) {
            g.skip_reason = "no Vulkan device (install mesa-vulkan-drivers for lavapipe)";
            return g;
        }
        const DeviceChoice choice = choose_device(request, infos, "");
        g.device = std::make_unique<Device>(*g.instance, *choice.vulkan_index);
        return g;
    }());
    return *gpu;
}

class VulkanTest : public ::testing::Test {
  protected:
    void SetUp() override {
        if (test_gpu().device) return;
        const char* ci = std::getenv("CI");
        if (ci && std::string(ci) == "true" && !test_gpu().asked_for_cpu) {
            FAIL() << "CI=true, but " << test_gpu().skip_reason;
        }
        GTEST_SKIP() << test_gpu().skip_reason;
    }
    static const Device& device() { return *test_gpu().device; }
};

}  // namespace lokal::vk::testing
