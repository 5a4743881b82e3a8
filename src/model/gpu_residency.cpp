#include "model/gpu_residency.h"

#include "model/compute_device.h"

#if LOKAL_HAVE_VULKAN
#include "backends/vulkan/device_weights.h"
#include "backends/vulkan/process_device.h"
#include "backends/vulkan/shared_weights.h"
#endif

namespace lokal::model {

GpuResidency GpuResidency::of([[maybe_unused]] const Model& model) {
    GpuResidency r;
#if LOKAL_HAVE_VULKAN
    const ComputeDevice& d = compute_device();
    if (d.gpu) {
        const vk::Device& device = vk::process_device(d.vulkan_index);
        r.weights_ = vk::existing_shared_weights(model.id(), device, vk::max_binding_bytes(device));
    }
#endif
    return r;
}

bool GpuResidency::holds([[maybe_unused]] const MatrixView& m) const {
#if LOKAL_HAVE_VULKAN
    return weights_ && m.rows > 0 && weights_->holds(m);
#else
    return false;
#endif
}

bool GpuResidency::holds([[maybe_unused]] std::span<const float> v) const {
#if LOKAL_HAVE_VULKAN
    return weights_ && !v.empty() && weights_->holds(v);
#else
    return false;
#endif
}

uint64_t GpuResidency::weight_bytes() const {
#if LOKAL_HAVE_VULKAN
    return weights_ ? weights_->bytes() : 0;
#else
    return 0;
#endif
}

uint64_t gpu_free_bytes_now() {
    const ComputeDevice& d = compute_device();
    if (!d.gpu) return 0;
#if LOKAL_HAVE_VULKAN
    const uint64_t used = vk::process_device(d.vulkan_index).device_local_in_use();
    return d.free_bytes > used ? d.free_bytes - used : 0;
#else
    return d.free_bytes;
#endif
}

}  // namespace lokal::model
