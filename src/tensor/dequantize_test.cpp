#include "tensor/dequantize.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <vector>

#include "base/error.h"
#include "base/fp16.h"
#include "tensor/quant_blocks.h"

namespace lokal {
namespace {

constexpr uint16_t kHalfOne = 0x3c00;      // 1.0
constexpr uint16_t kHalfHalf = 0x3800;     // 0.5
constexpr uint16_t kHalfQuarter = 0x3400;  // 0.25

TEST(Dequantize, F32F16BF16) {
    const float f[4] = {1.0f, -2.5f, 0.0f, 65504.0f};
    float out[4];
    dequantize_row(DType::F32, f, out, 4);
    for (int i = 0; i < 4; ++i) EXPECT_EQ(out[i], f[i]);
    const uint16_t h[4] = {0x3c00, 0xc100, 0x0000, 0x7bff};
    dequantize_row(DType::F16, h, out, 4);
    EXPECT_EQ(out[0], 1.0f);
    EXPECT_EQ(out[1], -2.5f);
    EXPECT_EQ(out[2], 0.0f);
    EXPECT_EQ(out[3], 65504.0f);
    const uint16_t b[2] = {0x3f80, 0xc020};
    dequantize_row(DType::BF16, b, out, 2);
    EXPECT_EQ(out[0], 1.0f);
    EXPECT_EQ(out[1], -2.5f);
}

TEST(Dequantize, Q4_0KnownBlock) {
    block_q4_0 b{};
    b.d = kHalfHalf;
    for (int j = 0; j < 16; ++j) b.qs[j] = (uint8_t)(j | ((15 - j) << 4));
    float y[32];
    dequantize_row(DType::Q4_0, &b, y, 32);
    for (int j = 0; j < 16; ++j) {
        EXPECT_EQ(y[j], (j - 8) * 0.5f) << j;       // low nibbles: first half
        EXPECT_EQ(y[j + 16], (7 - j) * 0.5f) << j;  // high nibbles: second half
    }
}

TEST(Dequantize, Q4_1AndQ5Blocks) {
    block_q4_1 b1{};
    b1.d = kHalfHalf;
    b1.m = 0xbc00;  // -1.0
    for (int j = 0; j < 16; ++j) b1.qs[j] = (uint8_t)(j | (3 << 4));
    float y[32];
    dequantize_row(DType::Q4_1, &b1, y, 32);
    EXPECT_EQ(y[0], -1.0f);
    EXPECT_EQ(y[15], 6.5f);
    EXPECT_EQ(y[16], 0.5f);

    // q5_0: qh bit j is the 5th bit of element j; set it for element 1 and element 17.
    block_q5_0 b5{};
    b5.d = kHalfOne;
    const uint32_t qh = (1u << 1) | (1u << 17);
    std::memcpy(b5.qh, &qh, 4);
    for (int j = 0; j < 16; ++j) b5.qs[j] = 0x21;  // low 1, high 2
    dequantize_row(DType::Q5_0, &b5, y, 32);
    EXPECT_EQ(y[0], 1.0f - 16);
    EXPECT_EQ(y[1], 17.0f - 16);
    EXPECT_EQ(y[16], 2.0f - 16);
    EXPECT_EQ(y[17], 18.0f - 16);

    block_q5_1 b51{};
    b51.d = kHalfOne;
    b51.m = kHalfHalf;
    std::memcpy(b51.qh, &qh, 4);
    for (int j = 0; j < 16; ++j) b51.qs[j] = 0x21;
    dequantize_row(DType::Q5_1, &b51, y, 32);
    EXPECT_EQ(y[0], 1.5f);
    EXPECT_EQ(y[1], 17.5f);
    EXPECT_EQ(y[17], 18.5f);
}

TEST(Dequantize, Q8_0KnownBlocks) {
    block_q8_0 b[2]{};
    b[0].d = kHalfQuarter;
    b[1].d = 0xc000;  // -2.0
    for (int j = 0; j < 32; ++j) {
        b[0].qs[j] = (int8_t)(j - 16);
        b[1].qs[j] = (int8_t)(j == 0 ? -128 : 127);
    }
    float y[64];
    dequantize_row(DType::Q8_0, b, y, 64);
    for (int j = 0; j < 32; ++j) EXPECT_EQ(y[j], (j - 16) * 0.25f);
    EXPECT_EQ(y[32], 256.0f);
    EXPECT_EQ(y[33], -254.0f);
}

TEST(Dequantize, Q4_KKnownBlock) {
    // Sub-block scales {1,2,3,4,17,18,35,50} and mins {0,1,2,3,20,33,5,63}, packed by hand.
    const int sc[8] = {1, 2, 3, 4, 17, 18, 35, 50};
    const int mn[8] = {0, 1, 2, 3, 20, 33, 5, 63};
    block_q4_K b{};
    b.d = kHalfOne;
    b.dmin = kHalfHalf;
    const uint8_t packed[12] = {65, 66, 131, 196, 64, 129, 2, 195, 65, 18, 83, 242};
    std::memcpy(b.scales, packed, 12);
    for (int k = 0; k < 128; ++k) b.qs[k] = (uint8_t)((k % 16) | ((15 - k % 16) << 4));
    float y[256];
    dequantize_row(DType::Q4_K, &b, y, 256);
    for (int e = 0; e < 256; ++e) {
        const int within = e % 64;
        const int q = within < 32 ? within % 16 : 15 - (within - 32) % 16;
        const int j = e / 32;
        EXPECT_EQ(y[e], (float)(sc[j] * q) - 0.5f * mn[j]) << e;
    }
}

TEST(Dequantize, Q5_KHighBits) {
    block_q5_K b{};
    b.d = kHalfOne;
    b.dmin = 0;
    const uint8_t packed[12] = {1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1};  // all scales 1, mins 0
    std::memcpy(b.scales, packed, 12);
    for (int l = 0; l < 32; ++l) b.qh[l] = (uint8_t)(l % 2 ? 0xAA : 0x55);
    std::memset(b.qs, 0x00, sizeof b.qs);
    float y[256];
    dequantize_row(DType::Q5_K, &b, y, 256);
    for (int e = 0; e < 256; ++e) {
        const int sub = e / 32, l = e % 32;
        const bool bit = (l % 2 ? 0xAA : 0x55) >> sub & 1;
        EXPECT_EQ(y[e], bit ? 16.0f : 0.0f) << e;
    }
}

TEST(Dequantize, Q6_KKnownBlock) {
    block_q6_K b{};
    b.d = kHalfHalf;
    for (int j = 0; j < 16; ++j) b.scales[j] = (int8_t)(j - 8);
    std::memset(b.ql, 0x21, sizeof b.ql);  // low nibble 1, high nibble 2
    std::memset(b.qh, 0xE4, sizeof b.qh);  // 2-bit fields 0,1,2,3 (bits 0-1 .. 6-7)
    float y[256];
    dequantize_row(DType::Q6_K, &b, y, 256);
    // In each 128-half: elements 0..31 -> 1-32, 32..63 -> 17-32, 64..95 -> 34-32, 96.. -> 50-32.
    const int vals[4] = {-31, -15, 2, 18};
    for (int e = 0; e < 256; ++e) {
        const int v = vals[(e % 128) / 32];
        // NOLINTNEXTLINE(bugprone-integer-division)
        EXPECT_EQ(y[e], 0.5f * (float)(e / 16 - 8) * (float)v) << e;
    }
}

TEST(Dequantize, Q2_KAndQ3_KBlocks) {
    block_q2_K b2{};
    b2.d = kHalfOne;
    b2.dmin = kHalfHalf;
    for (int j = 0; j < 16; ++j) b2.scales[j] = (uint8_t)((j % 16) | (2 << 4));  // scale j, min 2
    std::memset(b2.qs, 0xE4, sizeof b2.qs);  // q = 0,1,2,3 for the 4 shifts
    float y[256];
    dequantize_row(DType::Q2_K, &b2, y, 256);
    for (int e = 0; e < 256; ++e) {
        const int q = (e % 128) / 32;
        EXPECT_EQ(y[e], (float)((e / 16) * q) - 1.0f) << e;  // NOLINT(bugprone-integer-division)
    }

    block_q3_K b3{};
    b3.d = kHalfOne;
    // All 16 scales = 33 (stored 6-bit, minus 32 -> 1): low nibble 1, high 2 bits 0b10.
    for (int j = 0; j < 8; ++j) b3.scales[j] = 0x11;
    for (int j = 8; j < 12; ++j) b3.scales[j] = 0xAA;
    std::memset(b3.qs, 0xE4, sizeof b3.qs);
    std::memset(b3.hmask, 0x0F, sizeof b3.hmask);  // high bit set for elements 0..127
    dequantize_row(DType::Q3_K, &b3, y, 256);
    for (int e = 0; e < 256; ++e) {
        const int q = (e % 128) / 32;
        EXPECT_EQ(y[e], (float)(q - (e < 128 ? 0 : 4))) << e;
    }
}

TEST(Dequantize, Q8_KAndIq4) {
    block_q8_K b{};
    b.d = 0.125f;
    for (int j = 0; j < 256; ++j) b.qs[j] = (int8_t)(j - 128);
    std::vector<float> y(256);
    dequantize_row(DType::Q8_K, &b, y.data(), 256);
    for (int j = 0; j < 256; ++j) EXPECT_EQ(y[j], (j - 128) * 0.125f);

    block_iq4_nl nl{};
    nl.d = kHalfHalf;
    for (int j = 0; j < 16; ++j) nl.qs[j] = (uint8_t)(j | ((15 - j) << 4));
    dequantize_row(DType::IQ4_NL, &nl, y.data(), 32);
    EXPECT_EQ(y[0], -63.5f);
    EXPECT_EQ(y[15], 56.5f);
    EXPECT_EQ(y[16], 56.5f);
    EXPECT_EQ(y[8], 0.5f);

    block_iq4_xs xs{};
    xs.d = kHalfOne;
    // Sub-block ib scale ls = 32 + ib + 1 -> factor ib + 1... ls = 33 + ib: low nibble (1 + ib),
    // high bits 2 (0b10).
    for (int ib = 0; ib < 8; ib += 2) {
        xs.scales_l[ib / 2] = (uint8_t)(((1 + ib) & 0xF) | (((2 + ib) & 0xF) << 4));
    }
    xs.scales_h = 0xAAAA;
    std::memset(xs.qs, 0x98, sizeof xs.qs);  // low 8 -> 1, high 9 -> 13
    dequantize_row(DType::IQ4_XS, &xs, y.data(), 256);
    for (int e = 0; e < 256; ++e) {
        const int ib = e / 32;
        EXPECT_EQ(y[e], (float)((ib + 1) * ((e % 32) < 16 ? 1 : 13))) << e;
    }
}

// ---------------------------------------------------------------------------------------------
// Goldens from llama.cpp's own Python reference (gguf-py 0.19.0, gguf.quants.dequantize, which
// llama.cpp tests bit-exact against ggml): FNV-1a of the float output for 8 pseudo-random
// blocks per type. The block bytes come from the LCG below; fp16 fields are set to finite values.

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

std::vector<size_t> half_fields(DType t) {
    switch (t) {
        case DType::Q4_0:
            return {offsetof(block_q4_0, d)};
        case DType::Q4_1:
            return {offsetof(block_q4_1, d), offsetof(block_q4_1, m)};
        case DType::Q5_0:
            return {offsetof(block_q5_0, d)};
        case DType::Q5_1:
            return {offsetof(block_q5_1, d), offsetof(block_q5_1, m)};
        case DType::Q8_0:
            return {offsetof(block_q8_0, d)};
        case DType::Q2_K:
            return {offsetof(block_q2_K, d), offsetof(block_q2_K, dmin)};
        case DType::Q3_K:
            return {offsetof(block_q3_K, d)};
        case DType::Q4_K:
            return {offsetof(block_q4_K, d), offsetof(block_q4_K, dmin)};
        case DType::Q5_K:
            return {offsetof(block_q5_K, d), offsetof(block_q5_K, dmin)};
        case DType::Q6_K:
            return {offsetof(block_q6_K, d)};
        case DType::IQ4_NL:
            return {offsetof(block_iq4_nl, d)};
        case DType::IQ4_XS:
            return {offsetof(block_iq4_xs, d)};
        default:
            return {};
    }
}

struct Golden {
    DType type;
    int blocks;
    uint64_t hash;
};

TEST(Dequantize, MatchesLlamaCppReferenceBitForBit) {
    const Golden goldens[] = {
        {DType::Q4_0, 8, 0x1de8ed530ea29918ull},   {DType::Q4_1, 8, 0x2877f2d59dcd9d07ull},
        {DType::Q5_0, 8, 0x39335f78a3528137ull},   {DType::Q5_1, 8, 0xe769034f6ea8e579ull},
        {DType::Q8_0, 8, 0x3da4b8bbaba28eecull},   {DType::Q2_K, 8, 0xae5c7acdde30a845ull},
        {DType::Q3_K, 8, 0x5584a8b1e569b5aeull},   {DType::Q4_K, 8, 0xae6247c338c87720ull},
        {DType::Q5_K, 8, 0x3829510b75f4156cull},   {DType::Q6_K, 8, 0x16dce43af4aa83bfull},
        {DType::IQ4_NL, 8, 0x3c855e7d3948c268ull}, {DType::IQ4_XS, 8, 0x57a0a31685d946d2ull},
    };
    for (const Golden& g : goldens) {
        const DTypeInfo& info = dtype_info(g.type);
        Lcg rng{(uint64_t)g.type + 1};
        std::vector<uint8_t> raw((size_t)g.blocks * info.block_bytes);
        for (uint8_t& b : raw) b = rng.byte();
        for (int i = 0; i < g.blocks; ++i) {
            for (size_t off : half_fields(g.type)) {
                const uint8_t lo = rng.byte(), hi = rng.byte();
                uint16_t h = (uint16_t)(0x1c00 + (((hi & 0x7) << 8) | lo));  // |x| in [2^-8, 2^-7)
                if (hi & 0x80) h |= 0x8000;
                std::memcpy(&raw[(size_t)i * info.block_bytes + off], &h, 2);
            }
        }
        std::vector<float> y((size_t)g.blocks * info.block_elems);
        dequantize_row(g.type, raw.data(), y.data(), (int64_t)y.size());
        EXPECT_EQ(fnv1a(y.data(), y.size() * sizeof(float)), g.hash) << dtype_name(g.type);
    }
}

TEST(Dequantize, RejectsUnsupportedTypeAndBadLength) {
    uint8_t buf[512] = {};
    float y[256];
    EXPECT_THROW(dequantize_row(DType::IQ2_XXS, buf, y, 256), Error);
    EXPECT_THROW(dequantize_row(DType::Q4_0, buf, y, 31), Error);
    EXPECT_FALSE(can_dequantize(DType::I32));
    EXPECT_TRUE(can_dequantize(DType::IQ4_XS));
}

}  // namespace
}  // namespace lokal
