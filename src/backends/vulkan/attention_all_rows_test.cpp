// AttentionAllRows against kernels::attend_all_rows and a double-precision reference, with q, k
// and v side by side in one row buffer (as an encoder's fused qkv rows are).
//
// Tolerance: 1e-4 absolute against the double reference, outputs being averages of N(0,1)
// values: the shader works in fp32 (a head_dim-term dot product, the device's exp, a sum over at
// most 200 weighted values), for errors of order 1e-6; a row missed or counted twice moves an
// output by about |v| / n, above 1e-3. The CPU kernel is fp32 too, so the two agree within
// twice that.
#include <gtest/gtest.h>

#include <cmath>
#include <tuple>
#include <vector>

#include "backends/vulkan/attention_all_rows.h"
#include "backends/vulkan/test_gpu.h"
#include "backends/vulkan/transfer.h"
#include "base/random_values.h"
#include "kernels/cpu/attention.h"

namespace lokal::vk {
namespace {

// rows, heads, head_dim
class AttentionAllRowsTest
    : public testing::VulkanTest,
      public ::testing::WithParamInterface<std::tuple<uint32_t, uint32_t, uint32_t>> {};

TEST_P(AttentionAllRowsTest, MatchesTheCpuKernelAndTheDoubleReference) {
    const auto [n, n_head, hd] = GetParam();
    const uint32_t width = n_head * hd, stride = 3 * width + 1;  // [q | k | v | pad]
    const float scale = 2.0f / std::sqrt((float)hd);
    const std::vector<float> qkv = random_normal((int64_t)n * stride, 5 + n + hd, 1.0f);

    CommandStream stream(device());
    const Buffer x(device(), 4 * qkv.size(), MemoryKind::DeviceLocal, "qkv");
    upload(stream, x, 0, qkv.data(), 4 * qkv.size());
    const uint32_t o_stride = width + 2;
    const Buffer y(device(), 4 * (size_t)n * o_stride, MemoryKind::DeviceLocal, "out");
    AttentionAllRows attn(device());
    attn.record(stream, {&x, 0, stride}, {&x, width, stride}, {&x, 2 * width, stride},
                {&y, 1, o_stride}, n, n_head, hd, scale);
    std::vector<float> out((size_t)n * o_stride);
    download(stream, y, 0, out.data(), 4 * out.size());

    std::vector<float> scores(n), cpu(hd);
    for (uint32_t t = 0; t < n; ++t) {
        for (uint32_t h = 0; h < n_head; ++h) {
            const float* q = qkv.data() + (size_t)t * stride + h * hd;
            const float* k = qkv.data() + width + h * hd;
            const float* v = qkv.data() + 2 * width + h * hd;
            kernels::attend_all_rows(q, k, v, stride, (int)n, (int)hd, scale, scores.data(),
                                     cpu.data());
            std::vector<double> w(n), ref(hd, 0.0);
            double m = -INFINITY, l = 0;
            for (uint32_t j = 0; j < n; ++j) {
                double s = 0;
                for (uint32_t d = 0; d < hd; ++d) s += (double)q[d] * k[(size_t)j * stride + d];
                w[j] = s * scale;
                m = std::max(m, w[j]);
            }
            for (uint32_t j = 0; j < n; ++j) {
                const double e = std::exp(w[j] - m);
                l += e;
                for (uint32_t d = 0; d < hd; ++d) ref[d] += e * v[(size_t)j * stride + d];
            }
            for (uint32_t d = 0; d < hd; ++d) {
                const float gpu = out[(size_t)t * o_stride + 1 + h * hd + d];
                ASSERT_NEAR(gpu, ref[d] / l, 1e-4) << "row " << t << " head " << h << " dim " << d;
                ASSERT_NEAR(gpu, cpu[d], 2e-4) << "row " << t << " head " << h << " dim " << d;
            }
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Shapes, AttentionAllRowsTest,
                         ::testing::Values(std::tuple{1u, 1u, 8u}, std::tuple{5u, 3u, 64u},
                                           std::tuple{130u, 2u, 80u}, std::tuple{200u, 1u, 256u},
                                           std::tuple{17u, 4u, 128u}));

}  // namespace
}  // namespace lokal::vk
