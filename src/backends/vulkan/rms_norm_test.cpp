// The RMS norm shader against the CPU kernel's formula in double precision. The shader sums the
// squares in fp32 (per thread, then a tree of 64), so the scale can differ by the summation
// bound (cols/64 + 6)·eps relative, and each output by a few eps more.
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <vector>

#include "backends/vulkan/rms_norm.h"
#include "backends/vulkan/test_gpu.h"
#include "backends/vulkan/transfer.h"
#include "base/random_values.h"

namespace lokal::vk {
namespace {

class RmsNormTest : public testing::VulkanTest,
                    public ::testing::WithParamInterface<std::pair<uint32_t, uint32_t>> {};

TEST_P(RmsNormTest, MatchesTheReference) {
    const auto [rows, cols] = GetParam();
    const float eps = 1e-5f;
    const std::vector<float> x = random_normal(int64_t{rows} * cols, 7 + cols, 2.0f);
    const std::vector<float> w = random_normal(cols, 11, 1.0f);

    CommandStream stream(device());
    const Buffer x_buf(device(), x.size() * 4, MemoryKind::DeviceLocal, "x");
    const Buffer w_buf(device(), w.size() * 4, MemoryKind::DeviceLocal, "w");
    const Buffer y_buf(device(), x.size() * 4, MemoryKind::Host, "y");  // read back mapped
    upload(stream, x_buf, 0, x.data(), x.size() * 4);
    upload(stream, w_buf, 0, w.data(), w.size() * 4);
    RmsNorm norm(device());
    norm.record(stream, x_buf, w_buf, y_buf, rows, cols, eps);
    std::vector<float> y(x.size());
    download(stream, y_buf, 0, y.data(), y.size() * 4);

    const double rel = 2.0 * (cols / 64.0 + 6.0 + 4.0) * FLT_EPSILON;
    for (uint32_t r = 0; r < rows; ++r) {
        double sum = 0.0;
        for (uint32_t c = 0; c < cols; ++c) sum += double(x[r * cols + c]) * x[r * cols + c];
        const double scale = 1.0 / std::sqrt(sum / cols + eps);
        for (uint32_t c = 0; c < cols; ++c) {
            const double ref = x[r * cols + c] * scale * w[c];
            ASSERT_NEAR(y[r * cols + c], ref, rel * std::fabs(ref) + 1e-30)
                << "row " << r << " col " << c;
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Shapes, RmsNormTest,
                         ::testing::Values(std::pair{1u, 1u}, std::pair{3u, 63u},
                                           std::pair{5u, 577u}, std::pair{2u, 4096u}));

}  // namespace
}  // namespace lokal::vk
