#include "model/compute_device.h"

#include <algorithm>
#include <cstdlib>

#include "backends/cpu/cpu_backend.h"
#include "base/error.h"

#if LOKAL_HAVE_VULKAN
#include "backends/vulkan/device_choice.h"
#include "backends/vulkan/process_device.h"
#include "backends/vulkan/vulkan_backend.h"
#endif

namespace lokal::model {
namespace {

ComputeDevice resolve() {
    ComputeDevice d;
    d.name = "cpu";
#if LOKAL_HAVE_VULKAN
    const vk::DeviceRequest request = vk::device_request_from_env();
    if (request.kind == vk::DeviceRequest::Kind::Cpu) {
        d.reason = "LOKAL_DEVICE=cpu";
        return d;
    }
    std::string why;
    const std::vector<vk::DeviceInfo>& infos = vk::process_device_infos(&why);
    const vk::DeviceChoice choice = vk::choose_device(request, infos, why);
    d.reason = choice.reason;
    if (choice.vulkan_index && request.kind == vk::DeviceRequest::Kind::Auto) {
        // A GPU the driver cannot open leaves auto on the CPU; an explicit request fails.
        try {
            vk::process_device(*choice.vulkan_index);
        } catch (const Error& e) {
            d.reason = "vulkan:" + std::to_string(*choice.vulkan_index) + " could not be opened (" +
                       e.what() + ")";
            return d;
        }
    }
    if (choice.vulkan_index) {
        d.gpu = true;
        d.vulkan_index = *choice.vulkan_index;
        const vk::DeviceInfo& info = infos[(size_t)d.vulkan_index];
        d.name = "vulkan:" + std::to_string(d.vulkan_index) + " (" + info.name + ")";
        d.free_bytes = info.device_local_free_bytes > 0 ? info.device_local_free_bytes
                                                        : info.device_local_bytes;
    }
#else
    const char* env = std::getenv("LOKAL_DEVICE");
    const std::string want = env ? env : "";
    if (!want.empty() && want != "auto" && want != "cpu") {
        throw Error("LOKAL_DEVICE=" + want +
                        ": this lokal was built without the Vulkan backend (install "
                        "libvulkan-dev and glslc, then rebuild); use cpu",
                    ErrorKind::Unsupported);
    }
    d.reason = "built without the Vulkan backend";
#endif
    return d;
}

}  // namespace

const ComputeDevice& compute_device() {
    static const ComputeDevice device = resolve();
    return device;
}

int gpu_layers_from_env() {
    const char* env = std::getenv("LOKAL_GPU_LAYERS");
    if (!env || !*env) return -1;
    char* end = nullptr;
    const long n = std::strtol(env, &end, 10);
    if (*end != '\0' || n < -1) {
        throw Error(std::string("LOKAL_GPU_LAYERS=") + env +
                    ": give a number of layers (-1: as many as fit)");
    }
    return (int)std::min<long>(n, 1 << 20);
}

std::unique_ptr<backends::Backend> make_backend(const backends::BackendParams& params, bool gpu) {
#if LOKAL_HAVE_VULKAN
    const ComputeDevice& d = compute_device();
    if (gpu && d.gpu) {
        return std::make_unique<backends::VulkanBackend>(params,
                                                         vk::process_device(d.vulkan_index));
    }
#else
    (void)gpu;
#endif
    return std::make_unique<backends::CpuBackend>(params);
}

}  // namespace lokal::model
