#include "kernels/cpu/vec_dot.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/fp16.h"
#include "kernels/cpu/cpu_features.h"
#include "tensor/dequantize.h"
#include "tensor/quant_blocks.h"
#include "tensor/quantize.h"

namespace lokal::kernels {
namespace {

const DType kWeightTypes[] = {DType::F32,  DType::F16,  DType::BF16, DType::Q4_0,   DType::Q4_1,
                              DType::Q5_0, DType::Q5_1, DType::Q8_0, DType::Q2_K,   DType::Q3_K,
                              DType::Q4_K, DType::Q5_K, DType::Q6_K, DType::IQ4_NL, DType::IQ4_XS};

std::vector<float> normal_data(int64_t n, uint32_t seed, float scale = 1.0f) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(0.0f, scale);
    std::vector<float> x(n);
    for (float& v : x) v = dist(rng);
    return x;
}

// A weight row of type t: quantized normal data, or random bytes with sane scales for the iq4
// types (we have no quantizer for them).
std::vector<uint8_t> make_weights(DType t, int64_t n, uint32_t seed) {
    std::vector<uint8_t> w(row_bytes(t, n));
    if (can_quantize(t)) {
        const std::vector<float> x = normal_data(n, seed, 0.05f);
        quantize_row(t, x.data(), w.data(), n);
        return w;
    }
    std::mt19937 rng(seed);
    for (uint8_t& b : w) b = (uint8_t)rng();
    std::uniform_real_distribution<float> scale(-0.01f, 0.01f);
    if (t == DType::IQ4_NL) {
        auto* b = reinterpret_cast<block_iq4_nl*>(w.data());
        for (int64_t i = 0; i < n / kQK32; ++i) b[i].d = fp32_to_fp16(scale(rng));
    } else if (t == DType::IQ4_XS) {
        auto* b = reinterpret_cast<block_iq4_xs*>(w.data());
        for (int64_t i = 0; i < n / kQKK; ++i) b[i].d = fp32_to_fp16(scale(rng) / 16);
    }
    return w;
}

struct Case {
    std::vector<uint8_t> w, act;
    double expected = 0;  // sum of dequantized products, in double
    double abs_sum = 0;   // sum of |products|: the scale of rounding error
};

Case make_case(DType t, int64_t n, uint32_t seed) {
    Case c;
    c.w = make_weights(t, n, seed);
    const DType at = kernels_ref(t).act_type;
    const std::vector<float> x = normal_data(n, seed + 1000);
    c.act.resize(row_bytes(at, n));
    quantize_activations(at, x.data(), c.act.data(), n);
    std::vector<float> wf(n), af(n);
    dequantize_row(t, c.w.data(), wf.data(), n);
    dequantize_row(at, c.act.data(), af.data(), n);
    for (int64_t i = 0; i < n; ++i) {
        c.expected += (double)wf[i] * af[i];
        c.abs_sum += std::fabs((double)wf[i] * af[i]);
    }
    if (at == DType::Q8_1) {
        // The format carries s = fp16(d * sum(qs)) and the kernel uses it for the weight's min
        // term m * sum(a): swap the exact block sums for the stored ones.
        const auto* a = reinterpret_cast<const block_q8_1*>(c.act.data());
        const size_t wbytes = dtype_info(t).block_bytes;
        for (int64_t ib = 0; ib < n / kQK32; ++ib) {
            uint16_t m;  // q4_1 and q5_1 both store d, m first
            std::memcpy(&m, c.w.data() + ib * wbytes + 2, 2);
            double exact = 0;
            for (int j = 0; j < kQK32; ++j) exact += af[ib * kQK32 + j];
            c.expected += (double)fp16_to_fp32(m) * (fp16_to_fp32(a[ib].s) - exact);
        }
    }
    return c;
}

TEST(VecDot, ActivationTypesFollowGgml) {
    EXPECT_EQ(kernels_ref(DType::F32).act_type, DType::F32);
    EXPECT_EQ(kernels_ref(DType::F16).act_type, DType::F16);
    EXPECT_EQ(kernels_ref(DType::BF16).act_type, DType::BF16);
    for (DType t : {DType::Q4_0, DType::Q5_0, DType::Q8_0, DType::IQ4_NL}) {
        EXPECT_EQ(kernels_ref(t).act_type, DType::Q8_0) << dtype_name(t);
    }
    for (DType t : {DType::Q4_1, DType::Q5_1}) {
        EXPECT_EQ(kernels_ref(t).act_type, DType::Q8_1) << dtype_name(t);
    }
    for (DType t :
         {DType::Q2_K, DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K, DType::IQ4_XS}) {
        EXPECT_EQ(kernels_ref(t).act_type, DType::Q8_K) << dtype_name(t);
    }
}

TEST(VecDot, RefMatchesDequantizedDotForEveryType) {
    for (DType t : kWeightTypes) {
        for (int64_t n : {256, 2048}) {
            const Case c = make_case(t, n, 7 + (uint32_t)n);
            const float got = kernels_ref(t).vec_dot(n, c.w.data(), c.act.data());
            // Only float rounding separates the two: a few ulps of the sum of |terms|.
            EXPECT_NEAR(got, c.expected, 2e-6 * c.abs_sum + 1e-30) << dtype_name(t) << " n=" << n;
            EXPECT_GT(c.abs_sum, 0.0) << dtype_name(t);
        }
    }
}

TEST(VecDot, RefQ8_0IsExactOnSmallIntegers) {
    // Two blocks with d = 1 and 0.5: every product is exact, so the sum is too.
    block_q8_0 w[2], a[2];
    w[0].d = 0x3c00;
    w[1].d = 0x3800;
    a[0].d = a[1].d = 0x3c00;
    int64_t expect2 = 0;  // in halves
    for (int j = 0; j < 32; ++j) {
        w[0].qs[j] = (int8_t)(j - 16);
        w[1].qs[j] = (int8_t)(3 * j - 50);
        a[0].qs[j] = (int8_t)(j % 7 - 3);
        a[1].qs[j] = (int8_t)(-j);
        expect2 += 2 * (j - 16) * (j % 7 - 3) + (3 * j - 50) * (-j);
    }
    EXPECT_EQ(kernels_ref(DType::Q8_0).vec_dot(64, w, a), expect2 / 2.0f);
}

TEST(VecDot, UnknownTypesThrow) {
    EXPECT_THROW(kernels_ref(DType::IQ2_XXS), Error);
    EXPECT_THROW(kernels_for(DType::I32), Error);
    EXPECT_FALSE(has_kernels(DType::TQ1_0));
    EXPECT_TRUE(has_kernels(DType::Q6_K));
}

// Bit for bit, on every ISA this CPU has (the others say they were skipped): block counts even
// and odd (the AVX-512 kernels pair blocks), rows long and short.
TEST(VecDot, EverySupportedIsaEqualsReferenceBitForBit) {
    int checked = 0;
    for (Isa isa : kAllIsas) {
        if (!isa_supported(isa)) {
            std::printf("  %s not supported here: skipped\n", isa_name(isa));
            continue;
        }
        for (DType t : kWeightTypes) {
            const TypeKernels& k = kernels_for(t, isa);
            ASSERT_EQ(k.act_type, kernels_ref(t).act_type);
            for (int64_t n : {256, 512, 768, 4096, 4352}) {
                const Case c = make_case(t, n, 31 + (uint32_t)n);
                const float ref = kernels_ref(t).vec_dot(n, c.w.data(), c.act.data());
                const float got = k.vec_dot(n, c.w.data(), c.act.data());
                EXPECT_EQ(got, ref) << isa_name(isa) << " " << dtype_name(t) << " n=" << n;
                EXPECT_NEAR(got, c.expected, 1e-5 * c.abs_sum + 1e-30)
                    << isa_name(isa) << " " << dtype_name(t) << " n=" << n;
                ++checked;
            }
        }
    }
    EXPECT_GT(checked, 0);
}

// Rows of 32-element blocks with an odd block count, 1 to 9 blocks.
TEST(VecDot, OddBlockCountsEqualReferenceBitForBit) {
    for (Isa isa : kAllIsas) {
        if (!isa_supported(isa)) continue;
        for (DType t : {DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q8_0,
                        DType::IQ4_NL}) {
            for (int64_t blocks = 1; blocks <= 9; ++blocks) {
                const int64_t n = 32 * blocks;
                const Case c = make_case(t, n, 77 + (uint32_t)n);
                EXPECT_EQ(kernels_for(t, isa).vec_dot(n, c.w.data(), c.act.data()),
                          kernels_ref(t).vec_dot(n, c.w.data(), c.act.data()))
                    << isa_name(isa) << " " << dtype_name(t) << " n=" << n;
            }
        }
    }
}

TEST(VecDot, Avx2TableHasItsOwnKernels) {
    if (!isa_supported(Isa::Avx2)) GTEST_SKIP() << "no AVX2 here";
    for (DType t : {DType::F32, DType::F16, DType::BF16, DType::Q8_0, DType::Q4_0, DType::IQ4_NL,
                    DType::Q4_K, DType::Q5_K, DType::Q6_K}) {
        EXPECT_NE(kernels_for(t, Isa::Avx2).vec_dot, kernels_ref(t).vec_dot) << dtype_name(t);
    }
    for (DType t :
         {DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q2_K, DType::Q3_K, DType::IQ4_XS}) {
        EXPECT_NE(kernels_for(t, Isa::Avx2).vec_dot, kernels_ref(t).vec_dot) << dtype_name(t);
    }
}

// Byte offsets of the fp16 scale fields of each quantized weight block.
std::vector<int> fp16_fields(DType t) {
    switch (t) {
        case DType::Q4_0:
        case DType::Q5_0:
        case DType::Q8_0:
        case DType::IQ4_NL:
        case DType::IQ4_XS:
            return {0};
        case DType::Q4_1:
        case DType::Q5_1:
        case DType::Q4_K:
        case DType::Q5_K:
            return {0, 2};
        case DType::Q2_K:
            return {80, 82};
        case DType::Q3_K:
            return {108};
        case DType::Q6_K:
            return {208};
        default:
            return {};
    }
}

// Random bytes reach every quant level and scale code (quantized normal data does not): all
// kernels of every supported ISA must still equal the reference bit for bit.
TEST(VecDot, EveryIsaMatchesReferenceOnRandomBlocks) {
    std::mt19937 rng(99);
    std::uniform_real_distribution<float> scale(-0.01f, 0.01f);
    for (DType t : kWeightTypes) {
        const DTypeInfo& info = dtype_info(t);
        if (info.block_elems == 1) continue;
        const int64_t n = 1024;
        std::vector<uint8_t> w(row_bytes(t, n));
        for (uint8_t& b : w) b = (uint8_t)rng();
        for (int64_t ib = 0; ib < n / info.block_elems; ++ib) {
            for (int off : fp16_fields(t)) {
                const uint16_t h = fp32_to_fp16(scale(rng));
                std::memcpy(w.data() + ib * info.block_bytes + off, &h, 2);
            }
        }
        const DType at = kernels_ref(t).act_type;
        const std::vector<float> x = normal_data(n, 4);
        std::vector<uint8_t> act(row_bytes(at, n));
        quantize_activations(at, x.data(), act.data(), n);
        const float ref = kernels_ref(t).vec_dot(n, w.data(), act.data());
        for (Isa isa : kAllIsas) {
            if (!isa_supported(isa)) continue;
            const float got = kernels_for(t, isa).vec_dot(n, w.data(), act.data());
            EXPECT_EQ(got, ref) << isa_name(isa) << " " << dtype_name(t);
        }
    }
}

TEST(VecDot, FloatKernelsHandleOddLengths) {
    for (Isa isa : kAllIsas) {
        if (!isa_supported(isa)) continue;
        for (DType t : {DType::F32, DType::F16, DType::BF16}) {
            for (int64_t n : {1, 7, 8, 9, 31, 33, 100}) {
                const Case c = make_case(t, n, 5 + (uint32_t)n);
                const float got = kernels_for(t, isa).vec_dot(n, c.w.data(), c.act.data());
                EXPECT_EQ(got, kernels_ref(t).vec_dot(n, c.w.data(), c.act.data()))
                    << isa_name(isa) << " " << dtype_name(t) << " n=" << n;
                EXPECT_NEAR(got, c.expected, 1e-5 * c.abs_sum + 1e-30)
                    << isa_name(isa) << " " << dtype_name(t) << " n=" << n;
            }
        }
    }
}

TEST(VecDot, ActiveIsaIsSupported) {
    EXPECT_TRUE(isa_supported(active_isa()));
    std::printf("  cpu: %s; active isa: %s\n", cpu_features().summary().c_str(),
                isa_name(active_isa()));
    if (const char* forced = std::getenv("LOKAL_FORCE_ISA"); forced && *forced) {
        EXPECT_STREQ(isa_name(active_isa()), forced);
    }
}

TEST(VecDot, EachArchitectureHasItsOwnIsas) {
#if defined(__aarch64__)
    EXPECT_TRUE(isa_supported(Isa::Neon));
    EXPECT_EQ(isa_supported(Isa::NeonDot), cpu_features().neon_dotprod);
    for (Isa isa : {Isa::Avx2, Isa::Avx512, Isa::Amx}) EXPECT_FALSE(isa_supported(isa));
#else
    EXPECT_FALSE(isa_supported(Isa::Neon));
    EXPECT_FALSE(isa_supported(Isa::NeonDot));
    EXPECT_FALSE(cpu_features().neon_dotprod);
#endif
}

TEST(CpuFeatures, Consistent) {
    const CpuFeatures& f = cpu_features();
    if (f.avx2 || f.fma || f.f16c) {
        EXPECT_TRUE(f.avx);
    }
    if (f.avx512bw || f.avx512vl || f.avx512vnni || f.avx512bf16) {
        EXPECT_TRUE(f.avx512f);
    }
    if (f.avxvnni) {
        EXPECT_TRUE(f.avx2);
    }
}

}  // namespace
}  // namespace lokal::kernels

namespace lokal::kernels {
namespace {

TEST(VecDot, FourRowKernelsEqualSingleRowKernelsBitForBit) {
    const int64_t n = 256;
    int checked = 0;
    for (Isa isa : kAllIsas) {
        if (!isa_supported(isa)) continue;
        for (DType t : kWeightTypes) {
            const TypeKernels& k = kernels_for(t, isa);
            if (!k.vec_dot_x4) continue;
            const std::vector<uint8_t> w = make_weights(t, n, 3);
            std::vector<std::vector<uint8_t>> acts(4,
                                                   std::vector<uint8_t>(row_bytes(k.act_type, n)));
            const void* rows[4];
            for (int r = 0; r < 4; ++r) {
                const std::vector<float> x = normal_data(n, 10 + r);
                quantize_activations(k.act_type, x.data(), acts[r].data(), n);
                rows[r] = acts[r].data();
            }
            float out[4];
            k.vec_dot_x4(n, w.data(), rows, out);
            for (int r = 0; r < 4; ++r) {
                EXPECT_EQ(out[r], k.vec_dot(n, w.data(), rows[r]))
                    << isa_name(isa) << " " << dtype_name(t);
            }
            ++checked;
        }
    }
    if (!isa_supported(Isa::Avx2)) GTEST_SKIP() << "no four-row kernels on this CPU";
    EXPECT_GE(checked, 3);
}

}  // namespace
}  // namespace lokal::kernels
