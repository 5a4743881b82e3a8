#include "backends/vulkan/rms_norm.h"

#include "backends/vulkan/grid.h"
#include "base/error.h"

namespace lokal::vk {
namespace {

// Matches the push-constant block of shaders/rms_norm.comp.
struct RmsNormPush {
    uint32_t rows, cols, x_offset, x_stride, y_offset, y_stride;
    float eps;
};

}  // namespace

RmsNorm::RmsNorm(const Device& device)
    : device_(device), pipeline_(device, "rms_norm", 3, sizeof(RmsNormPush)) {}

void RmsNorm::record(CommandStream& stream, const Buffer& x, const Buffer& w, const Buffer& y,
                     uint32_t rows, uint32_t cols, float eps) {
    LOKAL_ASSERT(uint64_t{rows} * cols * 4 <= x.size() && uint64_t{rows} * cols * 4 <= y.size());
    LOKAL_ASSERT(uint64_t{cols} * 4 <= w.size());
    const RmsNormPush push{rows, cols, 0, cols, 0, cols, eps};
    pipeline_.dispatch(stream, {&x, &w, &y}, &push, row_groups(device_, rows));
}

}  // namespace lokal::vk
