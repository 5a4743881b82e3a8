// Which device a process's models run on: LOKAL_DEVICE (cpu | vulkan | vulkan:N | auto, the
// default; `--device` on the CLI sets it), resolved once. auto takes the best GPU and falls
// back to the CPU when there is none (a software Vulkan device only when asked for by name).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "backends/backend.h"

namespace lokal::model {

struct ComputeDevice {
    bool gpu = false;
    int vulkan_index = -1;
    std::string name;         // "cpu", "vulkan:0 (NVIDIA H200)"
    std::string reason;       // why this one, for logs
    uint64_t free_bytes = 0;  // device memory this process may still use (GPU only)
};

// Throws lokal::Error for a bad LOKAL_DEVICE or a device that does not exist.
const ComputeDevice& compute_device();

// LOKAL_GPU_LAYERS (`--gpu-layers` on the CLI): how many layers go to the GPU; -1 (unset): as
// many as fit. Throws lokal::Error for a value that is not a number.
int gpu_layers_from_env();

// A backend for (part of) one context: on compute_device()'s GPU when `gpu`, else on the CPU.
// Throws lokal::Error when the device cannot hold what it needs.
std::unique_ptr<backends::Backend> make_backend(const backends::BackendParams& params, bool gpu);

}  // namespace lokal::model
