// The Vulkan device a Vulkan bench runs on: the best one, or the one LOKAL_DEVICE=vulkan:N names;
// its name and driver printed as the table's first line.
#pragma once

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "backends/vulkan/device.h"
#include "backends/vulkan/device_choice.h"
#include "backends/vulkan/instance.h"
#include "base/error.h"

namespace lokal::bench {

struct BenchDevice {
    std::unique_ptr<vk::Instance> instance;
    std::unique_ptr<vk::Device> device;
};

inline BenchDevice open_bench_device() {
    std::string why;
    BenchDevice d;
    d.instance = vk::Instance::create(&why);
    if (!d.instance) throw Error("no Vulkan: " + why, ErrorKind::Unsupported);
    std::vector<vk::DeviceInfo> infos;
    for (size_t i = 0; i < d.instance->physical_devices().size(); ++i) {
        infos.push_back(
            vk::describe_device(d.instance->physical_devices()[i], static_cast<int>(i)));
    }
    vk::DeviceRequest request = vk::device_request_from_env();
    request.kind = vk::DeviceRequest::Kind::Vulkan;
    const vk::DeviceChoice choice = vk::choose_device(request, infos, why);
    if (!choice.vulkan_index) throw Error("no Vulkan device: " + why, ErrorKind::Unsupported);
    d.device = std::make_unique<vk::Device>(*d.instance, *choice.vulkan_index);
    std::printf("device: vulkan:%d %s (%s)\n", *choice.vulkan_index, d.device->info().name.c_str(),
                d.device->info().driver.c_str());
    return d;
}

}  // namespace lokal::bench
