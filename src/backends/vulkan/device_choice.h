// LOKAL_DEVICE=cpu|vulkan|vulkan:N (unset or "auto": the default) and the device it picks.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backends/vulkan/device_info.h"

namespace lokal::vk {

struct DeviceRequest {
    enum class Kind { Auto, Cpu, Vulkan };
    Kind kind = Kind::Auto;
    int index = -1;  // vulkan:N; -1: the best device
};

// Throws lokal::Error (invalid input) for anything but "", auto, cpu, vulkan, vulkan:N.
DeviceRequest parse_device_request(std::string_view text);
DeviceRequest device_request_from_env();  // LOKAL_DEVICE

struct DeviceChoice {
    std::optional<int> vulkan_index;  // nullopt: the CPU
    std::string reason;               // why this device, for users: "the best GPU"
};

// auto: the best GPU (discrete, then integrated, then virtual; more memory first), or the CPU
// when there is none: a software Vulkan device (lavapipe, type cpu) is slower than lokal's own
// CPU kernels, so it is only used when asked for. vulkan: the best device, software ones too.
// vulkan:N: device N. Throws lokal::Error when the request names a device that does not exist;
// no_vulkan_reason says why the list is empty, if it is.
DeviceChoice choose_device(const DeviceRequest& request, const std::vector<DeviceInfo>& devices,
                           std::string_view no_vulkan_reason);

}  // namespace lokal::vk
