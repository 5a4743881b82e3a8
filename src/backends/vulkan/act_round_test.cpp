// The activation rounding shader against the CPU's own conversion (quantize_row, then back to
// floats): every value must come out exactly, ties and all-zero blocks included (a zero may
// carry either sign: compilers may drop the sign of 0 * d).
#include <gtest/gtest.h>

#include <vector>

#include "backends/vulkan/act_round.h"
#include "backends/vulkan/test_gpu.h"
#include "backends/vulkan/transfer.h"
#include "base/random_values.h"
#include "tensor/quantize.h"

namespace lokal::vk {
namespace {

class ActRoundTest : public testing::VulkanTest, public ::testing::WithParamInterface<DType> {};

// What the CPU's dot products see of row x for weights of type t.
std::vector<float> cpu_rounded(DType t, const float* x, int64_t cols) {
    const DType act = dtype_info(t).act_type;
    std::vector<uint8_t> q(row_bytes(act, (uint64_t)cols));
    quantize_row(act, x, q.data(), cols);
    std::vector<float> out(cols);
    dtype_info(act).to_float(q.data(), out.data(), cols);
    return out;
}

TEST_P(ActRoundTest, MatchesTheCpuConversionExactly) {
    const DType t = GetParam();
    const uint32_t n = 3, cols = 512, offset = 5, stride = cols + 11;
    std::vector<float> x = random_normal(int64_t{stride} * n + offset, 17, 3.0f);
    float* row0 = x.data() + offset;
    std::fill_n(row0, 256, 0.0f);  // an all-zero block of every size
    for (int i = 256; i < 288; ++i) row0[i] = (float)(i - 256) * 0.5f;  // halves: ties
    row0[300] = -1e-30f;                                                // tiny
    float* row1 = x.data() + offset + stride;
    for (int i = 0; i < 32; ++i) row1[i] = (float)(i % 3 - 1) * 127.0f;  // exact multiples

    CommandStream stream(device());
    const Buffer x_buf(device(), x.size() * 4, MemoryKind::DeviceLocal, "x");
    const Buffer y_buf(device(), uint64_t{n} * cols * 4, MemoryKind::Host, "y");
    upload(stream, x_buf, 0, x.data(), x.size() * 4);
    ActRound round(device());
    ASSERT_TRUE(act_round_needed(t));
    round.record(stream, t, {&x_buf, offset, stride}, y_buf, n, cols);
    std::vector<float> y(uint64_t{n} * cols);
    download(stream, y_buf, 0, y.data(), y.size() * 4);
    for (uint32_t r = 0; r < n; ++r) {
        const std::vector<float> want = cpu_rounded(t, x.data() + offset + r * stride, cols);
        for (uint32_t c = 0; c < cols; ++c) {
            ASSERT_EQ(y[r * cols + c], want[c]) << dtype_name(t) << " row " << r << " col " << c;
        }
    }
}

INSTANTIATE_TEST_SUITE_P(WeightTypes, ActRoundTest,
                         ::testing::Values(DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q8_0,
                                           DType::Q4_K, DType::Q6_K, DType::IQ4_XS, DType::F16,
                                           DType::BF16),
                         [](const auto& p) { return std::string(dtype_name(p.param)); });

TEST(ActRoundNeeded, NotForF32) {
    EXPECT_FALSE(act_round_needed(DType::F32));
}

}  // namespace
}  // namespace lokal::vk
