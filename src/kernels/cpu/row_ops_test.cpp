#include "kernels/cpu/row_ops.h"
#include "kernels/cpu/vec_dot.h"
#include "kernels/cpu/rope.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace lokal::kernels {
namespace {

RopeConfig rope(RopeStyle style, int n_rot) {
    RopeConfig r;
    r.style = style;
    r.n_rot = n_rot;
    r.freq_base = 10000.0f;
    return r;
}

TEST(Rope, PositionZeroIsIdentity) {
    for (RopeStyle s : {RopeStyle::Normal, RopeStyle::NeoX}) {
        RopeConfig r = rope(s, 8);
        RopeTable t;
        t.compute(r, 0);
        std::vector<float> x = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
        std::vector<float> y = x;
        rope_apply(y.data(), 1, 10, r, t);
        EXPECT_EQ(x, y);
    }
}

TEST(Rope, NormalRotatesAdjacentPairsNeoXRotatesHalves) {
    const int pos = 3;
    RopeTable t;
    RopeConfig normal = rope(RopeStyle::Normal, 4);
    t.compute(normal, pos);
    // Pair 0 turns by pos radians, pair 1 by pos * 10000^(-2/4) = pos / 100.
    std::vector<float> x = {1, 0, 1, 0, 42};
    rope_apply(x.data(), 1, 5, normal, t);
    EXPECT_NEAR(x[0], std::cos(3.0f), 1e-6);
    EXPECT_NEAR(x[1], std::sin(3.0f), 1e-6);
    EXPECT_NEAR(x[2], std::cos(0.03f), 1e-6);
    EXPECT_NEAR(x[3], std::sin(0.03f), 1e-6);
    EXPECT_EQ(x[4], 42.0f);  // beyond n_rot: untouched

    RopeConfig neox = rope(RopeStyle::NeoX, 4);
    t.compute(neox, pos);
    std::vector<float> y = {1, 1, 0, 0};
    rope_apply(y.data(), 1, 4, neox, t);
    EXPECT_NEAR(y[0], std::cos(3.0f), 1e-6);
    EXPECT_NEAR(y[2], std::sin(3.0f), 1e-6);
    EXPECT_NEAR(y[1], std::cos(0.03f), 1e-6);
    EXPECT_NEAR(y[3], std::sin(0.03f), 1e-6);
}

TEST(Rope, LinearScalingSlowsPositions) {
    RopeConfig scaled = rope(RopeStyle::Normal, 8);
    scaled.scaling = RopeScaling::Linear;
    scaled.freq_scale = 0.25f;
    RopeConfig plain = rope(RopeStyle::Normal, 8);
    RopeTable a, b;
    a.compute(scaled, 8);
    b.compute(plain, 2);
    for (int i = 0; i < 4; ++i) {
        EXPECT_NEAR(a.cos[i], b.cos[i], 1e-6);
        EXPECT_NEAR(a.sin[i], b.sin[i], 1e-6);
    }
}

TEST(Rope, FrequencyFactorsDivideAngles) {
    RopeConfig r = rope(RopeStyle::Normal, 4);
    r.freq_factors = {1.0f, 4.0f};
    RopeTable t;
    t.compute(r, 8);
    EXPECT_NEAR(t.cos[1], std::cos(8.0f / 100.0f / 4.0f), 1e-6);
}

TEST(RmsNorm, NormalisesAndScales) {
    std::vector<float> x = {3, 4}, w = {1, 2}, out(2);
    rms_norm(x.data(), w.data(), out.data(), 2, 0.0f);
    const float rms = std::sqrt(12.5f);
    EXPECT_NEAR(out[0], 3 / rms, 1e-6);
    EXPECT_NEAR(out[1], 8 / rms, 1e-6);
}

// Every instruction set's SiLU equals the scalar reference bit for bit, the saturated ends and
// the scalar tail included; all stay within a few ulp of std::exp's SiLU.
TEST(Activations, SwigluOfEveryIsaIsBitIdenticalToScalar) {
    std::vector<float> g, u;
    for (int i = 0; i < 4000; ++i) {
        g.push_back(-120.0f + 0.06f * (float)i);  // -120 .. 120: both saturated ends
        u.push_back(0.5f + 0.001f * (float)i);
    }
    g.push_back(-90.0f);  // the scalar tail
    u.push_back(1.0f);
    const int n = (int)g.size();
    std::vector<float> want(n), got(n);
    swiglu_kernel(Isa::Scalar)(g.data(), u.data(), want.data(), n);
    for (int i = 0; i < n; ++i) {
        const float exact = g[i] / (1.0f + std::exp(-g[i])) * u[i];
        ASSERT_NEAR(want[i], exact, 4e-7f * std::fabs(exact) + 1e-30f) << "gate " << g[i];
    }
    for (Isa isa : kAllIsas) {
        if (!isa_supported(isa)) continue;
        swiglu_kernel(isa)(g.data(), u.data(), got.data(), n);
        for (int i = 0; i < n; ++i) ASSERT_EQ(got[i], want[i]) << isa_name(isa) << " gate " << g[i];
    }
}

TEST(Activations, SwigluAndGeglu) {
    const float g[] = {0.0f, 1.0f, -20.0f, 20.0f}, u[] = {2, 2, 2, 2};
    float o[4];
    swiglu(g, u, o, 4);
    EXPECT_NEAR(o[1], 2.0f / (1.0f + std::exp(-1.0f)), 1e-6);
    geglu(g, u, o, 4);
    EXPECT_EQ(o[0], 0.0f);
    EXPECT_NEAR(o[1], 2 * 0.8412f, 2e-3);  // gelu(1) ≈ 0.8412, through the F16 table
    EXPECT_EQ(o[2], 0.0f);
    EXPECT_EQ(o[3], 40.0f);
}

}  // namespace
}  // namespace lokal::kernels
