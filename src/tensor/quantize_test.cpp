#include "tensor/quantize.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "base/error.h"
#include "base/fp16.h"
#include "tensor/dequantize.h"
#include "tensor/quant_blocks.h"

namespace lokal {
namespace {

std::vector<float> normal_data(int64_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(0.0f, 1.0f);
    std::vector<float> x(n);
    for (float& v : x) v = dist(rng);
    return x;
}

// RMS of (dequantize(quantize(x)) - x) relative to RMS of x.
double relative_rms_error(DType t, const std::vector<float>& x) {
    const int64_t n = (int64_t)x.size();
    std::vector<uint8_t> q(row_bytes(t, n));
    EXPECT_EQ(quantize_row(t, x.data(), q.data(), n), q.size());
    std::vector<float> y(n);
    dequantize_row(t, q.data(), y.data(), n);
    double err = 0, ref = 0;
    for (int64_t i = 0; i < n; ++i) {
        err += (double)(y[i] - x[i]) * (y[i] - x[i]);
        ref += (double)x[i] * x[i];
    }
    return std::sqrt(err / ref);
}

struct Bound {
    DType type;
    double max_rel_rms;
};

TEST(Quantize, RoundTripErrorPerType) {
    // Bounds ~1.25x the errors measured for N(0,1) data (ggml's reference quantizers give
    // about the same figures).
    const Bound bounds[] = {
        {DType::F32, 0.0},    {DType::F16, 3e-4},   {DType::BF16, 3e-3},    {DType::Q8_0, 0.006},
        {DType::Q8_K, 0.009}, {DType::Q6_K, 0.022}, {DType::Q5_0, 0.050},   {DType::Q5_1, 0.045},
        {DType::Q5_K, 0.040}, {DType::Q4_0, 0.105}, {DType::Q4_1, 0.090},   {DType::Q4_K, 0.080},
        {DType::Q3_K, 0.190}, {DType::Q2_K, 0.360}, {DType::IQ4_NL, 0.097}, {DType::IQ4_XS, 0.097},
    };
    const std::vector<float> x = normal_data(8192, 1234);
    for (const Bound& b : bounds) {
        const double e = relative_rms_error(b.type, x);
        EXPECT_LE(e, b.max_rel_rms) << dtype_name(b.type);
        std::printf("  %-5s relative rms error %.5f\n", std::string(dtype_name(b.type)).c_str(), e);
    }
}

TEST(Quantize, ZerosStayZero) {
    const std::vector<float> x(512, 0.0f);
    for (DType t : {DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q8_0, DType::Q8_K,
                    DType::Q2_K, DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K}) {
        std::vector<uint8_t> q(row_bytes(t, 512), 0xAB);
        quantize_row(t, x.data(), q.data(), 512);
        std::vector<float> y(512, 1.0f);
        dequantize_row(t, q.data(), y.data(), 512);
        for (float v : y) ASSERT_EQ(v, 0.0f) << dtype_name(t);
    }
}

TEST(Quantize, Q8_0RoundsHalfAwayFromZero) {
    float x[32] = {};
    x[0] = 127.0f;  // amax 127 -> d = 1
    x[1] = 0.5f;
    x[2] = 2.5f;
    x[3] = -0.5f;
    x[4] = -126.4f;
    block_q8_0 b;
    quantize_row(DType::Q8_0, x, &b, 32);
    EXPECT_EQ(b.d, 0x3c00);
    EXPECT_EQ(b.qs[0], 127);
    EXPECT_EQ(b.qs[1], 1);
    EXPECT_EQ(b.qs[2], 3);
    EXPECT_EQ(b.qs[3], -1);
    EXPECT_EQ(b.qs[4], -126);
    EXPECT_EQ(b.qs[5], 0);
}

TEST(Quantize, Q8_1StoresScaledSum) {
    float x[32];
    for (int j = 0; j < 32; ++j) x[j] = (float)(j - 8);  // amax 23 -> d = 23/127
    block_q8_1 b;
    quantize_row(DType::Q8_1, x, &b, 32);
    const float d = 23.0f / 127;
    EXPECT_EQ(b.d, fp32_to_fp16(d));
    int sum = 0;
    for (int j = 0; j < 32; ++j) {
        EXPECT_EQ(b.qs[j], (int8_t)std::round(x[j] * (1.0f / d))) << j;
        sum += b.qs[j];
    }
    EXPECT_EQ(b.s, fp32_to_fp16(sum * d));
}

TEST(Quantize, Q8_KRoundsHalfToEvenAndKeepsSign) {
    std::vector<float> x(256, 0.0f);
    x[0] = -127.0f;  // the largest magnitude is negative: iscale = -127 / max = 1
    x[1] = 0.5f;
    x[2] = 1.5f;
    x[3] = 2.5f;
    x[4] = -3.5f;
    x[17] = 10.0f;
    block_q8_K b;
    quantize_row(DType::Q8_K, x.data(), &b, 256);
    EXPECT_EQ(b.d, 1.0f);
    EXPECT_EQ(b.qs[0], -127);
    EXPECT_EQ(b.qs[1], 0);
    EXPECT_EQ(b.qs[2], 2);
    EXPECT_EQ(b.qs[3], 2);
    EXPECT_EQ(b.qs[4], -4);
    EXPECT_EQ(b.bsums[0], -127 + 0 + 2 + 2 - 4);
    EXPECT_EQ(b.bsums[1], 10);
    EXPECT_EQ(b.bsums[2], 0);

    // A positive maximum gives a negative d (ggml's convention): values still round-trip.
    x.assign(256, 0.0f);
    x[5] = 2.0f;
    x[6] = -1.0f;
    quantize_row(DType::Q8_K, x.data(), &b, 256);
    EXPECT_EQ(b.qs[5], -127);
    EXPECT_LT(b.d, 0.0f);
    EXPECT_NEAR(b.d * b.qs[6], -1.0f, 0.01f);
}

TEST(Quantize, Q4_0UsesSignedMaxAsMinusEight) {
    float x[32];
    for (int j = 0; j < 32; ++j) x[j] = (float)(j - 16) / 2;  // max |x| = 8 at j = 0 (x = -8)
    block_q4_0 b;
    quantize_row(DType::Q4_0, x, &b, 32);
    EXPECT_EQ(fp16_to_fp32(b.d), 1.0f);  // d = max / -8 = 1
    float y[32];
    dequantize_row(DType::Q4_0, &b, y, 32);
    for (int j = 0; j < 32; ++j) EXPECT_NEAR(y[j], x[j], 0.5f + 1e-6f) << j;
    EXPECT_EQ(y[0], -8.0f);
}

TEST(Quantize, KQuantsAreDeterministicAcrossCalls) {
    const std::vector<float> x = normal_data(1024, 99);
    for (DType t : {DType::Q2_K, DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K}) {
        std::vector<uint8_t> a(row_bytes(t, 1024)), b(row_bytes(t, 1024));
        quantize_row(t, x.data(), a.data(), 1024);
        quantize_row(t, x.data(), b.data(), 1024);
        EXPECT_EQ(a, b) << dtype_name(t);
    }
}

// Goldens from llama.cpp's Python reference (gguf-py 0.19.0, gguf.quants.quantize, tested by
// llama.cpp bit-exact against ggml's quantize_row_*_ref): FNV-1a of the quantized bytes of 1024
// pseudo-random floats (a - 128) / 37 + b / 4096, a and b bytes of the LCG below.
struct Lcg {
    uint64_t s;
    uint8_t byte() {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        return (uint8_t)(s >> 56);
    }
};

uint64_t fnv1a(const void* p, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; ++i) h = (h ^ static_cast<const uint8_t*>(p)[i]) * 0x100000001b3ull;
    return h;
}

TEST(Quantize, MatchesLlamaCppReferenceBitForBit) {
    struct Golden {
        DType type;
        uint64_t hash;
    };
    const Golden goldens[] = {
        {DType::Q4_0, 0xb1e4b5cf6e0f8db9ull},
        {DType::Q4_1, 0x47191782efb2dc0bull},
        {DType::Q5_0, 0x727d5468daa7d6f7ull},
        {DType::Q5_1, 0x96af816418bc5b25ull},
        {DType::Q8_0, 0xa414bae2504dfbecull},
        {DType::BF16, 0xd61fbbe9df27d8a6ull},
        // IQ4: hashes of our output, which bench/compare_quantize.py found byte-equal to
        // llama-quantize's on whole models.
        {DType::IQ4_NL, 0xbd99189ee3681342ull},
        {DType::IQ4_XS, 0x470eeba9ad99be27ull},
    };
    const int64_t n = 1024;
    for (const Golden& g : goldens) {
        Lcg rng{1000 + (uint64_t)g.type};
        std::vector<float> x(n);
        for (float& v : x) {
            const uint8_t a = rng.byte(), b = rng.byte();
            v = (float)(a - 128) / 37.0f + (float)b / 4096.0f;
        }
        std::vector<uint8_t> q(row_bytes(g.type, n));
        quantize_row(g.type, x.data(), q.data(), n);
        EXPECT_EQ(fnv1a(q.data(), q.size()), g.hash) << dtype_name(g.type);
    }
}

TEST(Quantize, WeightedMatchesLlamaCppBitForBit) {
    // Hashes of our importance-weighted output, which bench/compare_quantize.py --imatrix found
    // byte-equal to llama-quantize's on a whole model; the importance has a few strong columns.
    struct Golden {
        DType type;
        uint64_t hash;
    };
    const Golden goldens[] = {
        {DType::Q4_0, 0xd22b77bfcd2e0e4full}, {DType::Q4_1, 0x69b5677e701a7836ull},
        {DType::Q5_0, 0x2fba5c093146e334ull}, {DType::Q5_1, 0x9165cdfd5b9fdda6ull},
        {DType::Q2_K, 0xd5bb855e06018036ull}, {DType::Q3_K, 0x4b7caed5e9180ddbull},
        {DType::Q4_K, 0xdb90d0f2c538c3f6ull}, {DType::Q5_K, 0xadb02460bc8707eaull},
        {DType::Q6_K, 0x7ed1c6b737b88fb9ull},
    };
    const int64_t n = 1024;
    std::vector<float> importance(n);
    for (int64_t i = 0; i < n; ++i) importance[i] = i % 7 == 0 ? 20.f : 0.25f + (float)(i % 5);
    for (const Golden& g : goldens) {
        Lcg rng{2000 + (uint64_t)g.type};
        std::vector<float> x(n);
        for (float& v : x) {
            const uint8_t a = rng.byte(), b = rng.byte();
            v = (float)(a - 128) / 37.0f + (float)b / 4096.0f;
        }
        std::vector<uint8_t> q(row_bytes(g.type, n));
        quantize_row_weighted(g.type, x.data(), q.data(), n, importance.data());
        EXPECT_EQ(fnv1a(q.data(), q.size()), g.hash)
            << dtype_name(g.type) << " 0x" << std::hex << fnv1a(q.data(), q.size());
    }
}

TEST(Quantize, Iq4ZeroBlocksUseTheLevelNearestZero) {
    // An all-zero block has scale 0 and every index 8 (level +1, the nearest to 0), as ggml's.
    const float x[256] = {};
    block_iq4_nl nl{};
    quantize_row(DType::IQ4_NL, x, &nl, 32);
    EXPECT_EQ(nl.d, 0);
    for (uint8_t q : nl.qs) EXPECT_EQ(q, 0x88);
    block_iq4_xs xs{};
    quantize_row(DType::IQ4_XS, x, &xs, 256);
    EXPECT_EQ(fp16_to_fp32(xs.d), 0.f);  // -0: the super-scale is -max/32
    for (uint8_t q : xs.qs) EXPECT_EQ(q, 0x88);
}

// sum_i w_i (y_i - x_i)^2 / sum_i w_i x_i^2: the error an importance-weighted quantizer lowers.
double weighted_error(DType t, const std::vector<float>& x, const std::vector<float>& w,
                      const float* importance) {
    const int64_t n = (int64_t)x.size();
    std::vector<uint8_t> q(row_bytes(t, n));
    quantize_row_weighted(t, x.data(), q.data(), n, importance);
    std::vector<float> y(n);
    dequantize_row(t, q.data(), y.data(), n);
    double err = 0, ref = 0;
    for (int64_t i = 0; i < n; ++i) {
        err += w[i] * (double)(y[i] - x[i]) * (y[i] - x[i]);
        ref += w[i] * (double)x[i] * x[i];
    }
    return err / ref;
}

TEST(Quantize, ImportanceLowersTheWeightedError) {
    const int64_t n = 4096;
    const std::vector<float> x = normal_data(n, 77);
    std::vector<float> w(n);
    std::mt19937 rng(5);
    std::uniform_real_distribution<float> u(0.f, 1.f);
    for (float& v : w) v = u(rng) < 0.1f ? 50.f : 0.5f;  // a few columns matter much more
    for (DType t : {DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q2_K, DType::Q3_K,
                    DType::Q4_K, DType::Q5_K, DType::Q6_K, DType::IQ4_NL, DType::IQ4_XS}) {
        EXPECT_TRUE(uses_importance(t));
        const double plain = weighted_error(t, x, w, nullptr);
        const double weighted = weighted_error(t, x, w, w.data());
        EXPECT_LT(weighted, plain * 0.9) << dtype_name(t);
    }
    EXPECT_FALSE(uses_importance(DType::Q8_0));
}

TEST(Quantize, RejectsUnsupportedTypeAndBadLength) {
    float x[256] = {};
    uint8_t buf[512];
    EXPECT_THROW(quantize_row(DType::IQ2_XXS, x, buf, 256), Error);
    EXPECT_THROW(quantize_row(DType::Q4_K, x, buf, 128), Error);
    EXPECT_FALSE(can_quantize(DType::I8));
}

}  // namespace
}  // namespace lokal
