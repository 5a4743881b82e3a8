// `lokal devices`: the CPU and every Vulkan device, and which one LOKAL_DEVICE picks.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "base/thread_pool.h"
#include "cli/options.h"
#include "kernels/cpu/vec_dot.h"

#if LOKAL_HAVE_VULKAN
#include "backends/vulkan/device_choice.h"
#include "backends/vulkan/device_info.h"
#include "backends/vulkan/instance.h"
#endif

namespace lokal::cli {
namespace {

std::string cpu_model_name() {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("model name", 0) == 0 && line.find(':') != std::string::npos) {
            return line.substr(line.find(':') + 2);
        }
    }
    return "CPU";
}

std::string gib(uint64_t bytes) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.1f GiB", bytes / 1073741824.0);
    return buf;
}

uint64_t system_memory_bytes() {
    const long pages = sysconf(_SC_PHYS_PAGES);
    const long page = sysconf(_SC_PAGE_SIZE);
    return pages > 0 && page > 0 ? uint64_t(pages) * uint64_t(page) : 0;
}

#if LOKAL_HAVE_VULKAN
const char* yes_no(bool b) {
    return b ? "yes" : "no";
}
#endif

constexpr const char* kRowFormat = "%-10s %-40s %-10s %10s %10s %8s %5s %5s %7s\n";

}  // namespace

int devices_command() {
#if LOKAL_HAVE_VULKAN
    const vk::DeviceRequest request = vk::device_request_from_env();  // a bad value: an error
#endif
    std::printf(kRowFormat, "DEVICE", "NAME", "TYPE", "MEMORY", "FREE", "SUBGROUP", "FP16", "INT8",
                "COOPMAT");
    const std::string cpu_name = cpu_model_name() + " (" +
                                 std::to_string(ThreadPool::default_threads()) + " cores, " +
                                 kernels::isa_name(kernels::active_isa()) + ")";
    std::printf(kRowFormat, "cpu", cpu_name.c_str(), "cpu", gib(system_memory_bytes()).c_str(), "-",
                "-", "-", "-", "-");
#if LOKAL_HAVE_VULKAN
    std::string why;
    const auto instance = vk::Instance::create(&why);
    std::vector<vk::DeviceInfo> devices;
    if (instance) {
        for (size_t i = 0; i < instance->physical_devices().size(); ++i) {
            devices.push_back(
                vk::describe_device(instance->physical_devices()[i], static_cast<int>(i)));
        }
    }
    for (const vk::DeviceInfo& d : devices) {
        const std::string id = "vulkan:" + std::to_string(d.index);
        std::printf(kRowFormat, id.c_str(), d.name.c_str(), vk::device_type_name(d.type),
                    gib(d.device_local_bytes).c_str(),
                    d.device_local_free_bytes ? gib(d.device_local_free_bytes).c_str() : "-",
                    std::to_string(d.subgroup_size).c_str(), yes_no(d.fp16), yes_no(d.int8),
                    yes_no(d.cooperative_matrix));
    }
    if (devices.empty())
        std::printf("\nno Vulkan device: %s\n", why.empty() ? "none found" : why.c_str());
    std::fflush(stdout);  // the table comes before an error about a device it lacks
    const vk::DeviceChoice choice = vk::choose_device(request, devices, why);
    const char* env = std::getenv("LOKAL_DEVICE");
    const std::string picked =
        choice.vulkan_index ? "vulkan:" + std::to_string(*choice.vulkan_index) + " (" +
                                  devices[static_cast<size_t>(*choice.vulkan_index)].name + ")"
                            : "cpu";
    std::printf("\nLOKAL_DEVICE=%s picks %s: %s\n", env && *env ? env : "(unset)", picked.c_str(),
                choice.reason.c_str());
#else
    std::printf(
        "\nno Vulkan device: this lokal was built without the Vulkan backend "
        "(install libvulkan-dev and glslc, then rebuild)\n");
#endif
    return 0;
}

}  // namespace lokal::cli
