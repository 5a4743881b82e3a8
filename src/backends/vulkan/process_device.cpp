#include "backends/vulkan/process_device.h"

#include <map>
#include <memory>
#include <mutex>

#include "backends/vulkan/instance.h"
#include "base/error.h"

namespace lokal::vk {
namespace {

struct ProcessVulkan {
    std::mutex mu;
    bool tried = false;
    std::unique_ptr<Instance> instance;
    std::string why;
    std::vector<DeviceInfo> infos;
    std::map<int, std::unique_ptr<Device>> devices;
};

ProcessVulkan& state() {
    static auto* s = new ProcessVulkan;  // never destroyed (see the header)
    return *s;
}

void open_instance(ProcessVulkan& s) {
    if (s.tried) return;
    s.tried = true;
    s.instance = Instance::create(&s.why);
    if (!s.instance) return;
    for (size_t i = 0; i < s.instance->physical_devices().size(); ++i) {
        s.infos.push_back(describe_device(s.instance->physical_devices()[i], static_cast<int>(i)));
    }
    if (s.infos.empty()) s.why = "the Vulkan loader sees no device";
}

}  // namespace

const std::vector<DeviceInfo>& process_device_infos(std::string* why) {
    ProcessVulkan& s = state();
    const std::lock_guard lock(s.mu);
    open_instance(s);
    if (why) *why = s.why;
    return s.infos;
}

const Device& process_device(int index) {
    ProcessVulkan& s = state();
    const std::lock_guard lock(s.mu);
    open_instance(s);
    if (!s.instance) throw Error("Vulkan is not available: " + s.why, ErrorKind::Unsupported);
    std::unique_ptr<Device>& d = s.devices[index];
    if (!d) d = std::make_unique<Device>(*s.instance, index);
    return *d;
}

}  // namespace lokal::vk
