#include "base/fp16.h"

#include <gtest/gtest.h>

#include <cmath>

namespace lokal {

TEST(Fp16, RoundTripsEveryHalf) {
    for (uint32_t h = 0; h < 0x10000; ++h) {
        const float f = fp16_to_fp32((uint16_t)h);
        if (std::isnan(f)) continue;
        EXPECT_EQ(fp32_to_fp16(f), h) << "half bits " << h;
    }
}

TEST(Fp16, RoundsToNearestEven) {
    EXPECT_EQ(fp32_to_fp16(1.0f), 0x3c00);
    EXPECT_EQ(fp32_to_fp16(65504.0f), 0x7bff);
    EXPECT_EQ(fp32_to_fp16(70000.0f), 0x7c00);
    EXPECT_EQ(fp32_to_fp16(1.0f + 1.0f / 2048), 0x3c00);  // exact tie -> even
    EXPECT_EQ(fp32_to_fp16(1.0f + 3.0f / 2048), 0x3c02);  // tie -> even (up)
    EXPECT_EQ(fp32_to_fp16(5.96046448e-8f), 0x0001);      // smallest subnormal
    EXPECT_EQ(fp32_to_fp16(-2.0f), 0xc000);
}

TEST(Bf16, Converts) {
    EXPECT_EQ(fp32_to_bf16(1.0f), 0x3f80);
    EXPECT_FLOAT_EQ(bf16_to_fp32(0x3f80), 1.0f);
    EXPECT_EQ(fp32_to_bf16(1.00390625f), 0x3f80);  // tie to even
}

}  // namespace lokal
