// Each matvec shader, per row and tiled, against a double-precision reference built from the
// CPU's dequantized rows (dtype_info(t).to_float), at several shapes, odd ones included, with x
// and y as dense rows or as column slices of wider rows; and the two paths against each other,
// bit for bit (MatvecBatch).
//
// Tolerance: the shaders sum in fp32 in another order than any CPU kernel. Fp32 summation of m
// terms in any order errs by at most (m-1)·eps·Σ|term|, and forming each product (dequantizing:
// scale × quant ± min, then × x) adds a few eps more.
// Both paths add in one order (shaders/matvec_head.glsl): each of 8 lanes adds its units one
// after another (at most cols/8 units of up to 32 products), then the 8 lane sums are added
// in turn, so (cols/8 + 32)·eps and 7·eps.
// Dequantizing as d·sc·q − dmin·m (the K types, q4_1, q5_1) makes terms that can each be a few
// times larger than |w·x|; a factor of 4 covers that. A wrong nibble, scale or block offset moves
// the result by a sizeable fraction of Σ|w·x|, far above these bounds.
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstring>
#include <iomanip>
#include <random>
#include <string>
#include <vector>

#include "backends/vulkan/buffer.h"
#include "backends/vulkan/command_stream.h"
#include "backends/vulkan/matvec.h"
#include "backends/vulkan/test_gpu.h"
#include "backends/vulkan/transfer.h"
#include "base/fp16.h"
#include "base/random_values.h"
#include "tensor/dtype.h"

namespace lokal::vk {
namespace {

struct Case {
    DType type;
    uint32_t rows;
    uint32_t blocks;  // per row: cols = blocks * block_elems (33 elements for plain types)
    uint32_t n_vec;
    MatvecPath path = MatvecPath::Rows;
    bool sliced = false;  // x and y as column slices of wider rows, at an offset
};

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
    const Case& c = info.param;
    const char* path = c.path == MatvecPath::Tiled  ? "_tiled"
                       : c.path == MatvecPath::Auto ? "_auto"
                                                    : "";
    return std::string(dtype_name(c.type)) + "_" + std::to_string(c.rows) + "x" +
           std::to_string(c.blocks) + "_v" + std::to_string(c.n_vec) + path +
           (c.sliced ? "_sliced" : "");
}

uint32_t cols_of(const Case& c) {
    const uint32_t block = dtype_info(c.type).block_elems;
    return c.blocks * (block == 1 ? 33 : block);
}

double tolerance_factor(uint32_t cols) {
    const double sums = cols / 8.0 + 32.0 + 7.0;
    return 4.0 * (sums + 4.0) * FLT_EPSILON;
}

// Byte offset of the fp16 scale d in the blocks of the types we have no quantizer for.
uint32_t scale_offset(DType t) {
    LOKAL_ASSERT(t == DType::IQ4_NL || t == DType::IQ4_XS);
    return 0;  // both start with d
}

// Rows of `cols` elements of type t in its GGUF layout: our own quantizer's output for
// normal-distributed values, or for types without one, random bytes with a sane fp16 scale.
std::vector<uint8_t> make_weights(DType t, uint32_t rows, uint32_t cols, uint32_t seed) {
    const DTypeInfo& info = dtype_info(t);
    const uint64_t rb = row_bytes(t, cols);
    std::vector<uint8_t> raw(rb * rows);
    if (info.from_float) {
        const std::vector<float> source = random_normal(int64_t{rows} * cols, seed, 0.5f);
        for (uint32_t r = 0; r < rows; ++r) {
            info.from_float(source.data() + uint64_t{r} * cols, raw.data() + r * rb, cols);
        }
        return raw;
    }
    std::mt19937 rng(seed);
    for (uint8_t& b : raw) b = static_cast<uint8_t>(rng());
    std::uniform_real_distribution<float> scale(0.001f, 0.01f);
    for (uint64_t at = scale_offset(t); at < raw.size(); at += info.block_bytes) {
        const uint16_t d = fp32_to_fp16(scale(rng));
        std::memcpy(raw.data() + at, &d, 2);
    }
    return raw;
}

class MatvecTest : public testing::VulkanTest, public ::testing::WithParamInterface<Case> {};

TEST_P(MatvecTest, MatchesTheDequantizedReference) {
    const Case& c = GetParam();
    const uint32_t cols = cols_of(c);
    const DTypeInfo& info = dtype_info(c.type);

    // The reference reads the weights back as the CPU does.
    const uint64_t rb = row_bytes(c.type, cols);
    const std::vector<uint8_t> raw = make_weights(c.type, c.rows, cols, 1234 + c.rows);
    std::vector<float> dequant(uint64_t{c.rows} * cols);
    for (uint32_t r = 0; r < c.rows; ++r) {
        info.to_float(raw.data() + r * rb, dequant.data() + uint64_t{r} * cols, cols);
    }
    // Sliced: x's columns start at 5 in rows of cols + 9, y's at 3 in rows of rows + 7.
    const uint32_t x_off = c.sliced ? 5 : 0, x_stride = c.sliced ? cols + 9 : cols;
    const uint32_t y_off = c.sliced ? 3 : 0, y_stride = c.sliced ? c.rows + 7 : c.rows;
    const std::vector<float> x = random_normal(int64_t{c.n_vec} * x_stride, 99 + cols, 1.0f);
    const float kUntouched = 12345.0f;
    std::vector<float> y(uint64_t{c.n_vec} * y_stride, kUntouched);

    CommandStream stream(device());
    const Buffer w_buf(device(), raw.size(), MemoryKind::DeviceLocal, "W");
    const Buffer x_buf(device(), x.size() * 4, MemoryKind::DeviceLocal, "x");
    const Buffer y_buf(device(), y.size() * 4, MemoryKind::DeviceLocal, "y");
    upload(stream, w_buf, 0, raw.data(), raw.size());
    upload(stream, x_buf, 0, x.data(), x.size() * 4);
    upload(stream, y_buf, 0, y.data(), y.size() * 4);
    Matvec matvec(device());
    matvec.record(stream, c.type, w_buf, {&x_buf, x_off, x_stride}, {&y_buf, y_off, y_stride},
                  {c.rows, cols, c.n_vec}, c.path);
    download(stream, y_buf, 0, y.data(), y.size() * 4);

    const double factor = tolerance_factor(cols);
    int failures = 0;
    for (uint32_t v = 0; v < c.n_vec; ++v) {
        for (uint32_t r = 0; r < c.rows; ++r) {
            double ref = 0.0, magnitude = 0.0;
            for (uint32_t i = 0; i < cols; ++i) {
                const double term =
                    double(dequant[uint64_t{r} * cols + i]) * x[uint64_t{v} * x_stride + x_off + i];
                ref += term;
                magnitude += std::fabs(term);
            }
            const double got = y[uint64_t{v} * y_stride + y_off + r];
            if (std::fabs(got - ref) > factor * magnitude && ++failures <= 5) {
                ADD_FAILURE() << "vector " << v << " row " << r << ": " << got << " vs " << ref
                              << " (tolerance " << factor * magnitude << ")";
            }
        }
    }
    EXPECT_EQ(failures, 0);
    // The columns of y outside the slice keep their values.
    for (uint32_t v = 0; v < c.n_vec; ++v) {
        for (uint32_t i = 0; i < y_stride; ++i) {
            if (i >= y_off && i < y_off + c.rows) continue;
            ASSERT_EQ(y[uint64_t{v} * y_stride + i], kUntouched) << "vector " << v << " col " << i;
        }
    }
}

constexpr DType kTypes[] = {DType::F32,  DType::F16,  DType::BF16, DType::Q4_0,   DType::Q4_1,
                            DType::Q5_0, DType::Q5_1, DType::Q8_0, DType::Q2_K,   DType::Q3_K,
                            DType::Q4_K, DType::Q5_K, DType::Q6_K, DType::IQ4_NL, DType::IQ4_XS};

std::vector<Case> row_cases() {
    std::vector<Case> cases;
    for (DType t : kTypes) {
        cases.push_back({t, 1, 1, 1});
        cases.push_back({t, 7, 3, 2});
        cases.push_back({t, 67, 5, 1, MatvecPath::Rows, true});
        cases.push_back({t, 130, 16, 3});  // 4096 columns for the K types
    }
    // More groups of 8 rows than one grid dimension holds on many devices (65535): the rest run
    // in z.
    cases.push_back({DType::Q4_0, 8 * 70001, 1, 1});
    return cases;
}

std::vector<Case> tiled_cases() {
    std::vector<Case> cases;
    for (DType t : kTypes) {
        cases.push_back({t, 1, 1, 2, MatvecPath::Tiled});
        cases.push_back({t, 67, 3, 7, MatvecPath::Tiled, true});
        cases.push_back({t, 129, 2, 8, MatvecPath::Tiled});
        cases.push_back({t, 65, 5, 33, MatvecPath::Tiled, true});
        cases.push_back({t, 31, 4, 64, MatvecPath::Tiled, true});
    }
    // Auto picks the tiled path for a batch and the per-row one below kTiledMinVectors.
    cases.push_back({DType::Q4_K, 200, 2, 40, MatvecPath::Auto, true});
    cases.push_back({DType::Q5_0, 70, 3, 5, MatvecPath::Auto, true});
    return cases;
}

INSTANTIATE_TEST_SUITE_P(Rows, MatvecTest, ::testing::ValuesIn(row_cases()), case_name);
INSTANTIATE_TEST_SUITE_P(Tiled, MatvecTest, ::testing::ValuesIn(tiled_cases()), case_name);

// Continuous batching and speculative decoding need a row's result to be the same whatever shares
// its pass: vectors multiplied in a tiled batch of kTiledMinVectors + 33 (two tiles of vectors,
// the second partial) and in a per-row batch of 3 give the bits each gives alone. Enough
// columns that every lane adds several units (plain types: more than one step of 32, and a
// last step cut short), and rows across two tiles and a partial group of the per-row path.
class MatvecBatch : public testing::VulkanTest, public ::testing::WithParamInterface<DType> {};

TEST_P(MatvecBatch, EachVectorHasTheBitsItHasAlone) {
    const DType t = GetParam();
    const uint32_t block = dtype_info(t).block_elems;
    const uint32_t cols = block == 1 ? 3300 : block == 32 ? 70 * 32 : 9 * block;
    const uint32_t rows = 70, n_vec = kTiledMinVectors + 33, n_small = 3;
    ASSERT_TRUE(runs_tiled(MatvecPath::Auto, n_vec) && !runs_tiled(MatvecPath::Auto, n_small));

    const std::vector<uint8_t> raw = make_weights(t, rows, cols, 77);
    const std::vector<float> x = random_normal(int64_t{n_vec} * cols, 5, 1.0f);
    const uint64_t y_floats = uint64_t{n_vec} * rows;
    CommandStream stream(device());
    const Buffer w_buf(device(), raw.size(), MemoryKind::DeviceLocal, "W");
    const Buffer x_buf(device(), x.size() * 4, MemoryKind::DeviceLocal, "x");
    const Buffer alone_buf(device(), y_floats * 4, MemoryKind::DeviceLocal, "y alone");
    const Buffer batch_buf(device(), y_floats * 4, MemoryKind::DeviceLocal, "y batch");
    const Buffer small_buf(device(), uint64_t{n_small} * rows * 4, MemoryKind::DeviceLocal,
                           "y small batch");
    upload(stream, w_buf, 0, raw.data(), raw.size());
    upload(stream, x_buf, 0, x.data(), x.size() * 4);
    Matvec matvec(device());
    for (uint32_t v = 0; v < n_vec; ++v) {
        matvec.record(stream, t, w_buf, {&x_buf, v * cols, cols}, {&alone_buf, v * rows, rows},
                      {rows, cols, 1});
    }
    matvec.record(stream, t, w_buf, dense_rows(x_buf, cols), dense_rows(batch_buf, rows),
                  {rows, cols, n_vec});
    matvec.record(stream, t, w_buf, dense_rows(x_buf, cols), dense_rows(small_buf, rows),
                  {rows, cols, n_small});
    std::vector<float> alone(y_floats), batch(y_floats), small(uint64_t{n_small} * rows);
    download(stream, alone_buf, 0, alone.data(), alone.size() * 4);
    download(stream, batch_buf, 0, batch.data(), batch.size() * 4);
    download(stream, small_buf, 0, small.data(), small.size() * 4);

    const auto bits = [](float f) {
        uint32_t b = 0;
        std::memcpy(&b, &f, 4);
        return b;
    };
    int differences = 0;
    for (uint64_t i = 0; i < y_floats; ++i) {
        const bool in_small = i < small.size();
        if ((bits(batch[i]) != bits(alone[i]) || (in_small && bits(small[i]) != bits(alone[i]))) &&
            ++differences <= 5) {
            ADD_FAILURE() << std::setprecision(9) << "vector " << i / rows << " row " << i % rows
                          << ": alone " << alone[i] << ", in the batch of " << n_vec << " "
                          << batch[i] << ", of " << n_small << " " << (in_small ? small[i] : NAN);
        }
    }
    EXPECT_EQ(differences, 0);
}

std::string type_name(const ::testing::TestParamInfo<DType>& param) {
    return std::string(dtype_name(param.param));
}

INSTANTIATE_TEST_SUITE_P(Types, MatvecBatch, ::testing::ValuesIn(kTypes), type_name);

TEST(MatvecSupport, NamesTheTypesWithShaders) {
    for (DType t : kTypes) EXPECT_TRUE(matvec_supports(t)) << dtype_name(t);
    EXPECT_FALSE(matvec_supports(DType::IQ2_XXS));
    EXPECT_FALSE(matvec_supports(DType::Q8_K));
}

class MatvecErrors : public testing::VulkanTest {};

TEST_F(MatvecErrors, ATypeWithoutAShaderIsUnsupported) {
    CommandStream stream(device());
    const Buffer b(device(), 1024, MemoryKind::DeviceLocal, "b");
    Matvec matvec(device());
    try {
        matvec.record(stream, DType::IQ2_XXS, b, dense_rows(b, 256), dense_rows(b, 1), {1, 256, 1});
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Unsupported);
        EXPECT_NE(std::string(e.what()).find("iq2_xxs"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace lokal::vk
