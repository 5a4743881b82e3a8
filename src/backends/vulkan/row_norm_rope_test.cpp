// RowOps' norms and rotary embedding against the CPU kernels, on rows at offsets and strides
// wider than the width. The norms add squares in fp32 (per invocation, then a tree of 128) where
// the CPU adds in double, so the scale may differ by the summation bound (group/128 + 7)·eps
// relative, and each output by a few eps more (division and sqrt are 2.5 ulp in Vulkan). RoPE
// is bit for bit: the host's RopeTable angles, then IEEE multiplies and adds, unfused.
#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <vector>

#include "backends/vulkan/row_ops.h"
#include "backends/vulkan/row_ops_testing.h"
#include "backends/vulkan/test_gpu.h"
#include "base/random_values.h"
#include "kernels/cpu/rope.h"
#include "kernels/cpu/row_ops.h"

namespace lokal::vk {
namespace {

using testing::Layout;
using testing::Twin;
using testing::within_ulp;

double norm_rel_tolerance(uint32_t group) {
    return 2.0 * (group / 128.0 + 7.0 + 4.0) * FLT_EPSILON;
}

// out (rows of out_l in y) against the reference in y.host; everything else bit for bit.
void expect_norm_close(const std::vector<float>& got, const std::vector<float>& want,
                       const Layout& out_l, const std::vector<double>& tolerance) {
    const std::vector<bool> in_rows = testing::in_rows(out_l, want.size());
    for (size_t i = 0, k = 0; i < got.size(); ++i) {
        const double tol = in_rows[i] ? tolerance[k++] : 0.0;
        ASSERT_NEAR(got[i], want[i], tol) << "float " << i;
    }
}

// Whole rows (group == width) or pieces (heads); out aliasing x or in a buffer of its own.
void check_rms_norm(const Device& device, const Layout& l, uint32_t group, bool in_place) {
    const float eps = 1e-6f;
    const Layout out_l = in_place ? l : Layout{l.n, l.width, 2, l.width + 9};
    CommandStream stream(device);
    Twin x(device, stream, random_normal(l.floats(), 20 + l.width, 2.0f));
    Twin separate(device, stream, random_normal(out_l.floats(), 21, 1.0f));
    const Twin w(device, stream, random_normal(group, 22, 1.0f));
    Twin& y = in_place ? x : separate;
    RowOps ops(device);
    ops.rms_norm(stream, x.rows(l), w.buf(), y.rows(out_l), l.n, l.width, group, eps);
    std::vector<double> tolerance;
    for (uint32_t r = 0; r < l.n; ++r) {
        for (uint32_t p = 0; p < l.width; p += group) {
            kernels::rms_norm(x.row(l, r) + p, w.host.data(), y.row(out_l, r) + p,
                              static_cast<int>(group), eps);
            for (uint32_t c = 0; c < group; ++c) {
                tolerance.push_back(norm_rel_tolerance(group) * std::fabs(y.row(out_l, r)[p + c]) +
                                    1e-30);
            }
        }
    }
    expect_norm_close(y.device_values(stream), y.host, out_l, tolerance);
    if (!in_place) {
        EXPECT_TRUE(within_ulp(x.device_values(stream), x.host, 0));  // x untouched
    }
}

class RowNormTest : public testing::VulkanTest, public ::testing::WithParamInterface<Layout> {};

TEST_P(RowNormTest, RmsNorm) {
    check_rms_norm(device(), GetParam(), GetParam().width, false);
    check_rms_norm(device(), GetParam(), GetParam().width, true);
}

TEST_P(RowNormTest, LayerNorm) {
    const Layout l = GetParam();
    const float eps = 1e-5f;
    for (const bool in_place : {false, true}) {
        const Layout out_l = in_place ? l : Layout{l.n, l.width, 2, l.width + 9};
        CommandStream stream(device());
        std::vector<float> values = random_normal(l.floats(), 23 + l.width, 2.0f);
        for (float& v : values) v += 0.5f;  // a mean away from 0
        Twin x(device(), stream, values);
        Twin separate(device(), stream, random_normal(out_l.floats(), 24, 1.0f));
        const Twin w(device(), stream, random_normal(l.width, 25, 1.0f));
        const Twin b(device(), stream, random_normal(l.width, 26, 1.0f));
        Twin& y = in_place ? x : separate;
        RowOps ops(device());
        ops.layer_norm(stream, x.rows(l), w.buf(), b.buf(), y.rows(out_l), l.n, l.width, eps);
        std::vector<double> tolerance;
        for (uint32_t r = 0; r < l.n; ++r) {
            // The mean's error scales with the largest |x|, and reaches each output through
            // scale * w; the rest is relative to what is added.
            const float* xr = x.row(l, r);
            double sum = 0, max_abs = 0;
            for (uint32_t c = 0; c < l.width; ++c) {
                sum += xr[c];
                max_abs = std::max(max_abs, std::fabs(double{xr[c]}));
            }
            double var = 0;
            for (uint32_t c = 0; c < l.width; ++c)
                var += (xr[c] - sum / l.width) * (xr[c] - sum / l.width);
            const double scale = 1.0 / std::sqrt(var / l.width + eps);
            std::vector<float> xs(xr, xr + l.width);
            kernels::layer_norm(xs.data(), w.host.data(), b.host.data(), y.row(out_l, r),
                                static_cast<int>(l.width), eps);
            for (uint32_t c = 0; c < l.width; ++c) {
                const double size =
                    (std::fabs(double{xs[c]}) + max_abs) * scale * std::fabs(double{w.host[c]}) +
                    std::fabs(double{b.host[c]});
                tolerance.push_back(norm_rel_tolerance(l.width) * size + 1e-30);
            }
        }
        expect_norm_close(y.device_values(stream), y.host, out_l, tolerance);
    }
}

INSTANTIATE_TEST_SUITE_P(Layouts, RowNormTest, ::testing::ValuesIn(testing::kLayouts));

// q/k norms: heads of head_dim in a q|k|v row; x is the k part.
struct Heads {
    uint32_t n, n_heads, head_dim;
};

class RowNormHeadsTest : public testing::VulkanTest, public ::testing::WithParamInterface<Heads> {};

TEST_P(RowNormHeadsTest, RmsNormOfEachHead) {
    const Heads h = GetParam();
    const uint32_t width = h.n_heads * h.head_dim;
    const Layout k{h.n, width, 2 * width + 1, 3 * width + 5};
    check_rms_norm(device(), k, h.head_dim, true);
    check_rms_norm(device(), k, h.head_dim, false);
}

INSTANTIATE_TEST_SUITE_P(Shapes, RowNormHeadsTest,
                         ::testing::Values(Heads{1, 1, 1}, Heads{3, 5, 1}, Heads{2, 3, 63},
                                           Heads{4, 8, 64}, Heads{3, 32, 128}, Heads{1, 2, 577}));

struct RopeCase {
    kernels::RopeStyle style;
    uint32_t n_heads, head_dim, n_rot;
    int config;  // 0 plain, 1 YaRN, 2 llama 3 frequency factors
};

kernels::RopeConfig rope_config(const RopeCase& rc) {
    kernels::RopeConfig cfg;
    cfg.style = rc.style;
    cfg.n_rot = static_cast<int>(rc.n_rot);
    if (rc.config == 1) {
        cfg.scaling = kernels::RopeScaling::YaRN;
        cfg.freq_base = 1000000.0f;
        cfg.freq_scale = 0.25f;
        cfg.n_ctx_orig = 4096;
        cfg.yarn_ext_factor = 1.0f;
    } else if (rc.config == 2) {
        cfg.freq_base = 500000.0f;
        for (uint32_t i = 0; i < rc.n_rot / 2; ++i) cfg.freq_factors.push_back(1.0f + 0.25f * i);
    }
    return cfg;
}

class RowRopeTest : public testing::VulkanTest, public ::testing::WithParamInterface<RopeCase> {};

TEST_P(RowRopeTest, MatchesTheCpuBitForBit) {
    const RopeCase rc = GetParam();
    const kernels::RopeConfig cfg = rope_config(rc);
    const std::vector<int> positions = {0, 1, 17, 4095, 4096, 100000};
    const auto n = static_cast<uint32_t>(positions.size());
    const uint32_t width = rc.n_heads * rc.head_dim;
    const Layout q{n, width, 3, 2 * width + 7};  // q of a q|k row
    const uint32_t table_offset = 5;
    std::vector<float> table(table_offset, 0.0f);
    kernels::RopeTable angles;
    for (const int pos : positions) {
        angles.compute(cfg, pos);
        table.insert(table.end(), angles.cos, angles.cos + rc.n_rot / 2);
        table.insert(table.end(), angles.sin, angles.sin + rc.n_rot / 2);
    }
    CommandStream stream(device());
    Twin x(device(), stream, random_normal(q.floats(), 27, 2.0f));
    const Twin t(device(), stream, table);
    RowOps ops(device());
    ops.rope(stream, x.rows(q), n, rc.n_heads, rc.head_dim, rc.n_rot, rc.style, t.buf(),
             table_offset);
    for (uint32_t r = 0; r < n; ++r) {
        angles.compute(cfg, positions[r]);
        kernels::rope_apply(x.row(q, r), static_cast<int>(rc.n_heads),
                            static_cast<int>(rc.head_dim), cfg, angles);
    }
    EXPECT_TRUE(within_ulp(x.device_values(stream), x.host, 0));
}

using kernels::RopeStyle;
INSTANTIATE_TEST_SUITE_P(
    Cases, RowRopeTest,
    ::testing::Values(
        RopeCase{RopeStyle::Normal, 4, 64, 64, 0}, RopeCase{RopeStyle::NeoX, 4, 64, 64, 0},
        RopeCase{RopeStyle::Normal, 3, 80, 32, 0}, RopeCase{RopeStyle::NeoX, 3, 80, 32, 0},
        RopeCase{RopeStyle::NeoX, 2, 256, 256, 0},  // more pairs than invocations
        RopeCase{RopeStyle::Normal, 1, 2, 2, 0}, RopeCase{RopeStyle::Normal, 8, 128, 128, 1},
        RopeCase{RopeStyle::NeoX, 5, 96, 64, 1}, RopeCase{RopeStyle::Normal, 8, 128, 128, 2},
        RopeCase{RopeStyle::NeoX, 2, 128, 96, 2}));

}  // namespace
}  // namespace lokal::vk
