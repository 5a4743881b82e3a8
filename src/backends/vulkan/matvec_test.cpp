// Each matvec shader against a double-precision reference built from the CPU's dequantized rows
// (dtype_info(t).to_float), at several shapes, odd ones included.
//
// Tolerance: the shader sums in fp32 in another order than any CPU kernel: each thread adds its
// units one after another (at most cols/64 units of up to 32 products), then the 64 partial sums
// are added in an order the variant and the device choose (a tree in shared memory, or within
// subgroups and then across them). Fp32 summation of m terms in any order errs by at most
// (m-1)·eps·Σ|term|, so the threads' sums by (cols/64 + 32)·eps and the 64 partials by 63·eps,
// and forming each product (scale × quant × x) adds a few eps more.
// The K types split each 32-element part into d·sc·Σq·x − dmin·m·Σx, whose two terms can each be
// a few times larger than Σ|w·x|; a factor of 4 covers that. A wrong nibble, scale or block
// offset moves the result by a sizeable fraction of Σ|w·x|, far above this bound.
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "backends/vulkan/buffer.h"
#include "backends/vulkan/command_stream.h"
#include "backends/vulkan/matvec.h"
#include "backends/vulkan/test_gpu.h"
#include "backends/vulkan/transfer.h"
#include "base/random_values.h"
#include "tensor/dtype.h"

namespace lokal::vk {
namespace {

struct Case {
    DType type;
    uint32_t rows;
    uint32_t blocks;  // per row: cols = blocks * block_elems (33 elements for F32/F16: odd sizes)
    uint32_t n_vec;
    bool subgroups = false;  // the shaders' subgroup-arithmetic variant
};

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
    const Case& c = info.param;
    return std::string(dtype_name(c.type)) + "_" + std::to_string(c.rows) + "x" +
           std::to_string(c.blocks) + "_v" + std::to_string(c.n_vec) +
           (c.subgroups ? "_subgroup" : "");
}

uint32_t cols_of(const Case& c) {
    const uint32_t block = dtype_info(c.type).block_elems;
    return c.blocks * (block == 1 ? 33 : block);
}

double tolerance_factor(uint32_t cols) {
    const double per_thread = cols / 64.0 + 32.0;
    return 4.0 * (per_thread + 63.0 + 4.0) * FLT_EPSILON;
}

class MatvecTest : public testing::VulkanTest, public ::testing::WithParamInterface<Case> {};

TEST_P(MatvecTest, MatchesTheDequantizedReference) {
    const Case& c = GetParam();
    if (c.subgroups && !device().info().subgroup_arithmetic) {
        GTEST_SKIP() << device().info().name << " has no subgroup arithmetic in compute shaders";
    }
    const uint32_t cols = cols_of(c);
    const DTypeInfo& info = dtype_info(c.type);

    // Weights quantized by our own quantizer; the reference reads them back as the CPU does.
    const std::vector<float> source = random_normal(int64_t{c.rows} * cols, 1234 + c.rows, 0.5f);
    const uint64_t rb = row_bytes(c.type, cols);
    std::vector<uint8_t> raw(rb * c.rows);
    std::vector<float> dequant(source.size());
    for (uint32_t r = 0; r < c.rows; ++r) {
        info.from_float(source.data() + uint64_t{r} * cols, raw.data() + r * rb, cols);
        info.to_float(raw.data() + r * rb, dequant.data() + uint64_t{r} * cols, cols);
    }
    const std::vector<float> x = random_normal(int64_t{c.n_vec} * cols, 99 + cols, 1.0f);

    CommandStream stream(device());
    const Buffer w_buf(device(), raw.size(), MemoryKind::DeviceLocal, "W");
    const Buffer x_buf(device(), x.size() * 4, MemoryKind::DeviceLocal, "x");
    const Buffer y_buf(device(), uint64_t{c.rows} * c.n_vec * 4, MemoryKind::DeviceLocal, "y");
    upload(stream, w_buf, 0, raw.data(), raw.size());
    upload(stream, x_buf, 0, x.data(), x.size() * 4);
    Matvec matvec(device(), c.subgroups);
    matvec.record(stream, c.type, w_buf, dense_rows(x_buf, cols), dense_rows(y_buf, c.rows),
                  {c.rows, cols, c.n_vec});
    std::vector<float> y(uint64_t{c.rows} * c.n_vec);
    download(stream, y_buf, 0, y.data(), y.size() * 4);

    const double factor = tolerance_factor(cols);
    int failures = 0;
    for (uint32_t v = 0; v < c.n_vec; ++v) {
        for (uint32_t r = 0; r < c.rows; ++r) {
            double ref = 0.0, magnitude = 0.0;
            for (uint32_t i = 0; i < cols; ++i) {
                const double term =
                    double(dequant[uint64_t{r} * cols + i]) * x[uint64_t{v} * cols + i];
                ref += term;
                magnitude += std::fabs(term);
            }
            const double got = y[uint64_t{v} * c.rows + r];
            if (std::fabs(got - ref) > factor * magnitude && ++failures <= 5) {
                ADD_FAILURE() << "vector " << v << " row " << r << ": " << got << " vs " << ref
                              << " (tolerance " << factor * magnitude << ")";
            }
        }
    }
    EXPECT_EQ(failures, 0);
}

std::vector<Case> all_cases() {
    std::vector<Case> cases;
    for (bool subgroups : {false, true}) {
        for (DType t :
             {DType::F32, DType::F16, DType::Q8_0, DType::Q4_0, DType::Q4_K, DType::Q6_K}) {
            cases.push_back({t, 1, 1, 1, subgroups});
            cases.push_back({t, 7, 3, 2, subgroups});
            cases.push_back({t, 67, 5, 1, subgroups});
            cases.push_back({t, 130, 16, 3, subgroups});  // 4096 columns for the K types
        }
    }
    // More rows than one grid dimension holds on many devices (65535): the rest run in z.
    cases.push_back({DType::Q4_0, 70001, 1, 1});
    return cases;
}

INSTANTIATE_TEST_SUITE_P(Types, MatvecTest, ::testing::ValuesIn(all_cases()), case_name);

TEST(MatvecSupport, NamesTheTypesWithShaders) {
    EXPECT_TRUE(matvec_supports(DType::Q4_K));
    EXPECT_TRUE(matvec_supports(DType::F16));
    EXPECT_FALSE(matvec_supports(DType::IQ4_XS));
}

class MatvecErrors : public testing::VulkanTest {};

TEST_F(MatvecErrors, ATypeWithoutAShaderIsUnsupported) {
    CommandStream stream(device());
    const Buffer b(device(), 1024, MemoryKind::DeviceLocal, "b");
    Matvec matvec(device());
    try {
        matvec.record(stream, DType::IQ4_XS, b, dense_rows(b, 256), dense_rows(b, 1), {1, 256, 1});
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Unsupported);
        EXPECT_NE(std::string(e.what()).find("iq4_xs"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace lokal::vk
