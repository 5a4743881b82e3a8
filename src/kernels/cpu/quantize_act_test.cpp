// The SIMD activation quantizers must be bit-exact with quantize_row (tensor/quantize.cpp).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "kernels/cpu/vec_dot.h"
#include "tensor/quantize.h"

namespace lokal::kernels {
namespace {

// Inputs that stress rounding: exact .5 ties after scaling, equal magnitudes of both signs, zeros,
// signed zeros, subnormals, huge values, tiny blocks and a few non-finite values.
std::vector<float> tricky_row(int64_t n, uint32_t seed, bool non_finite) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(0.0f, 1.0f);
    std::uniform_int_distribution<int> kind(0, 15);
    std::vector<float> x(n);
    for (int64_t i = 0; i < n; ++i) {
        switch (kind(rng)) {
            case 0:
                x[i] = (float)(int)(dist(rng) * 100) + 0.5f;  // ties when the scale is ~1
                break;
            case 1:
                x[i] = 127.0f * ((i & 1) ? 1 : -1);  // equal |x| of both signs
                break;
            case 2:
                x[i] = (i & 1) ? 0.0f : -0.0f;
                break;
            case 3:
                x[i] = dist(rng) * 1e-40f;  // subnormal
                break;
            case 4:
                x[i] = dist(rng) * 1e30f;
                break;
            case 5:
                x[i] = (float)(int)(dist(rng) * 64) * 0.5f;  // halves
                break;
            default:
                x[i] = dist(rng);
        }
    }
    // Whole blocks of special content.
    const int64_t blocks = n / 256;
    for (int64_t b = 0; b < blocks; ++b) {
        float* blk = x.data() + 256 * b;
        switch (b % 8) {
            case 1:
                for (int j = 0; j < 256; ++j) blk[j] = 0.0f;
                break;
            case 2:
                for (int j = 0; j < 256; ++j)
                    blk[j] = (j % 3 - 1) * 1e-42f;  // reciprocal overflows
                break;
            case 3:
                for (int j = 0; j < 256; ++j) blk[j] = (float)(j - 128) * 0.5f;  // -64..63.5
                break;
            case 4:
                if (non_finite) {
                    blk[5] = std::numeric_limits<float>::infinity();
                    blk[40] = std::numeric_limits<float>::quiet_NaN();
                    blk[77] = -std::numeric_limits<float>::infinity();
                }
                break;
            case 5:
                if (non_finite) blk[200] = std::numeric_limits<float>::quiet_NaN();
                break;
            case 6:
                for (int j = 0; j < 256; ++j) blk[j] = (j & 1) ? 3.0f : -3.0f;  // tie for max
                break;
            case 7:  // max 127 in every 32-block: scale 1, so every k + 0.5 is an exact tie
                for (int j = 0; j < 256; ++j) {
                    blk[j] = j % 32 == 0 ? 127.0f : (float)((j * 7) % 250 - 125) + 0.5f;
                }
                break;
            default:
                break;
        }
    }
    return x;
}

TEST(QuantizeActivations, SimdIsBitExactWithQuantizeRow) {
    int checked = 0;
    for (Isa isa : kAllIsas) {
        if (!isa_supported(isa)) continue;
        for (DType at : {DType::Q8_0, DType::Q8_1, DType::Q8_K, DType::F16}) {
            for (uint32_t seed = 0; seed < 40; ++seed) {
                const int64_t n = 256 * (1 + seed % 9);
                const std::vector<float> x = tricky_row(n, seed, seed % 2 == 1);
                std::vector<uint8_t> want(row_bytes(at, n)), got(row_bytes(at, n), 0xAB);
                quantize_row(at, x.data(), want.data(), n);
                quantize_activations(at, x.data(), got.data(), n, isa);
                ASSERT_EQ(std::memcmp(want.data(), got.data(), want.size()), 0)
                    << isa_name(isa) << " " << dtype_name(at) << " seed=" << seed;
                ++checked;
            }
            // Plain normal data at several scales.
            for (float scale : {1e-6f, 1e-3f, 1.0f, 1e3f}) {
                std::mt19937 rng(11);
                std::normal_distribution<float> dist(0.0f, scale);
                std::vector<float> x(4096);
                for (float& v : x) v = dist(rng);
                std::vector<uint8_t> want(row_bytes(at, 4096)), got(row_bytes(at, 4096));
                quantize_row(at, x.data(), want.data(), 4096);
                quantize_activations(at, x.data(), got.data(), 4096, isa);
                ASSERT_EQ(std::memcmp(want.data(), got.data(), want.size()), 0)
                    << isa_name(isa) << " " << dtype_name(at) << " scale=" << scale;
            }
        }
    }
    if (checked == 0) GTEST_SKIP() << "no SIMD instruction set here";
}

TEST(QuantizeActivations, ScalarIsQuantizeRow) {
    const std::vector<float> x = tricky_row(512, 3, false);
    for (DType at : {DType::Q8_0, DType::Q8_1, DType::Q8_K, DType::F16}) {
        std::vector<uint8_t> want(row_bytes(at, 512)), got(row_bytes(at, 512));
        quantize_row(at, x.data(), want.data(), 512);
        quantize_activations(at, x.data(), got.data(), 512, Isa::Scalar);
        EXPECT_EQ(want, got) << dtype_name(at);
    }
}

}  // namespace
}  // namespace lokal::kernels
