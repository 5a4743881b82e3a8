#include "backends/vulkan/device_choice.h"

#include <charconv>
#include <cstdlib>

#include "base/error.h"

namespace lokal::vk {
namespace {

int type_rank(DeviceType t) {  // lower is better
    switch (t) {
        case DeviceType::Discrete:
            return 0;
        case DeviceType::Integrated:
            return 1;
        case DeviceType::Virtual:
            return 2;
        case DeviceType::Other:
            return 3;
        case DeviceType::Cpu:
            return 4;
    }
    return 5;
}

const DeviceInfo* best_device(const std::vector<DeviceInfo>& devices, bool allow_software) {
    const DeviceInfo* best = nullptr;
    for (const DeviceInfo& d : devices) {
        if (d.type == DeviceType::Cpu && !allow_software) continue;
        if (!best || type_rank(d.type) < type_rank(best->type) ||
            (type_rank(d.type) == type_rank(best->type) &&
             d.device_local_bytes > best->device_local_bytes)) {
            best = &d;
        }
    }
    return best;
}

}  // namespace

DeviceRequest parse_device_request(std::string_view text) {
    if (text.empty() || text == "auto") return {};
    if (text == "cpu") return {DeviceRequest::Kind::Cpu, -1};
    if (text == "vulkan") return {DeviceRequest::Kind::Vulkan, -1};
    constexpr std::string_view prefix = "vulkan:";
    if (text.substr(0, prefix.size()) == prefix) {
        const std::string_view digits = text.substr(prefix.size());
        int index = -1;
        const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
        if (!digits.empty() && ec == std::errc() && end == digits.data() + digits.size() &&
            index >= 0) {
            return {DeviceRequest::Kind::Vulkan, index};
        }
    }
    throw Error("unknown device '" + std::string(text) +
                "' (LOKAL_DEVICE): use cpu, vulkan or vulkan:N (`lokal devices` lists them)");
}

DeviceRequest device_request_from_env() {
    const char* value = std::getenv("LOKAL_DEVICE");
    return parse_device_request(value ? value : "");
}

DeviceChoice choose_device(const DeviceRequest& request, const std::vector<DeviceInfo>& devices,
                           std::string_view no_vulkan_reason) {
    using Kind = DeviceRequest::Kind;
    const std::string none =
        devices.empty() ? "no Vulkan device" + (no_vulkan_reason.empty()
                                                    ? std::string()
                                                    : " (" + std::string(no_vulkan_reason) + ")")
                        : std::string();
    switch (request.kind) {
        case Kind::Cpu:
            return {std::nullopt, "LOKAL_DEVICE=cpu"};
        case Kind::Auto: {
            if (const DeviceInfo* d = best_device(devices, false)) {
                return {d->index, "the best GPU"};
            }
            return {std::nullopt, devices.empty() ? none
                                                  : "only software Vulkan devices (use "
                                                    "LOKAL_DEVICE=vulkan:N to run on one)"};
        }
        case Kind::Vulkan:
            break;
    }
    if (devices.empty()) {
        throw Error("LOKAL_DEVICE asks for Vulkan, but there is " + none, ErrorKind::Unsupported);
    }
    if (request.index < 0) {
        const DeviceInfo* d = best_device(devices, true);
        return {d->index, "the best Vulkan device"};
    }
    if (request.index >= static_cast<int>(devices.size())) {
        throw Error("LOKAL_DEVICE=vulkan:" + std::to_string(request.index) + ", but there " +
                        (devices.size() == 1
                             ? "is 1 Vulkan device"
                             : "are " + std::to_string(devices.size()) + " Vulkan devices") +
                        " (vulkan:0.." + std::to_string(devices.size() - 1) +
                        "; `lokal devices` lists them)",
                    ErrorKind::InvalidInput);
    }
    return {request.index, "named by LOKAL_DEVICE"};
}

}  // namespace lokal::vk
