// The elementwise row ops and gather_rows against the CPU backend's code, on rows at offsets and
// strides wider than the width (column slices), comparing whole buffers so that columns outside
// the slice must come back untouched. Tolerances: scale, add, gather and GELU bit for bit
// (Vulkan rounds add and multiply as IEEE does, `precise` forbids fusing, GELU is a lookup);
// SiLU 4 ulp (Vulkan lets division be 2.5 ulp off, and lavapipe unfuses the polynomial's fmas:
// 2 ulp seen); tanh an absolute 2^-21 times the cap (Vulkan bounds tanh only through exp's
// 3 + 2|x| ulp; lavapipe is 2 ulp of 1 off).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "backends/vulkan/row_ops.h"
#include "backends/vulkan/row_ops_testing.h"
#include "backends/vulkan/test_gpu.h"
#include "base/fp16.h"
#include "base/random_values.h"
#include "kernels/cpu/row_ops.h"

namespace lokal::vk {
namespace {

using testing::Layout;
using testing::Twin;
using testing::within_ulp;

constexpr uint64_t kSiluUlp = 4;
constexpr float kTanhAbs = 1.0f / (1 << 21);

class RowOpsTest : public testing::VulkanTest, public ::testing::WithParamInterface<Layout> {
  protected:
    // The parameter's layout in a second buffer, placed differently.
    static Layout other(const Layout& l) { return {l.n, l.width, 3, l.width + 5}; }
};

TEST_P(RowOpsTest, Scale) {
    const Layout l = GetParam();
    CommandStream stream(device());
    Twin x(device(), stream, random_normal(l.floats(), 1, 3.0f));
    RowOps ops(device());  // alive until the stream has run what it recorded
    ops.scale(stream, x.rows(l), l.n, l.width, 0.37f);
    for (uint32_t r = 0; r < l.n; ++r)
        for (uint32_t c = 0; c < l.width; ++c) x.row(l, r)[c] *= 0.37f;
    EXPECT_TRUE(within_ulp(x.device_values(stream), x.host, 0));
}

TEST_P(RowOpsTest, Add) {
    const Layout l = GetParam();
    const Layout ly = other(l);
    CommandStream stream(device());
    Twin x(device(), stream, random_normal(l.floats(), 2, 3.0f));
    Twin y(device(), stream, random_normal(ly.floats(), 3, 3.0f));
    RowOps ops(device());
    ops.add(stream, x.rows(l), y.rows(ly), l.n, l.width);
    stream.barrier();
    ops.add(stream, x.rows(l), x.rows(l), l.n, l.width);  // x += x: y may be x
    for (uint32_t r = 0; r < l.n; ++r) {
        for (uint32_t c = 0; c < l.width; ++c) {
            x.row(l, r)[c] += y.row(ly, r)[c];
            x.row(l, r)[c] += x.row(l, r)[c];
        }
    }
    EXPECT_TRUE(within_ulp(x.device_values(stream), x.host, 0));
}

TEST_P(RowOpsTest, AddBias) {
    const Layout l = GetParam();
    CommandStream stream(device());
    Twin x(device(), stream, random_normal(l.floats(), 4, 3.0f));
    const Twin b(device(), stream, random_normal(l.width, 5, 1.0f));
    RowOps ops(device());
    ops.add_bias(stream, x.rows(l), b.buf(), l.n, l.width);
    for (uint32_t r = 0; r < l.n; ++r) kernels::add_bias(x.row(l, r), b.host.data(), l.width);
    EXPECT_TRUE(within_ulp(x.device_values(stream), x.host, 0));
}

// gate | up side by side in one row, as a fused gate-up projection writes them.
void check_glu(const Device& device, GluKind kind, const Layout& l, bool out_is_up) {
    const Layout gate{l.n, l.width, l.offset, 2 * l.width + l.stride};
    const Layout up{l.n, l.width, l.offset + l.width, gate.stride};
    const Layout out = out_is_up ? up : Layout{l.n, l.width, 1, l.stride};
    CommandStream stream(device);
    std::vector<float> values = random_normal(gate.floats() + l.width, 6, 4.0f);
    for (size_t i = 0; i < values.size(); i += 7) values[i] *= 4.0f;  // past +-10 too
    Twin x(device, stream, values);
    Twin separate(device, stream, random_normal(out.floats(), 7, 1.0f));
    Twin& y = out_is_up ? x : separate;
    RowOps ops(device);
    ops.glu(stream, kind, x.rows(gate), x.rows(up), y.rows(out), l.n, l.width);
    for (uint32_t r = 0; r < l.n; ++r) {
        if (kind == GluKind::SiLU) {
            kernels::swiglu(x.row(gate, r), x.row(up, r), y.row(out, r), l.width);
        } else {
            kernels::geglu(x.row(gate, r), x.row(up, r), y.row(out, r), l.width);
        }
    }
    const uint64_t ulp = kind == GluKind::SiLU ? kSiluUlp : 0;
    EXPECT_TRUE(within_ulp(y.device_values(stream), y.host, ulp));
    if (!out_is_up) {
        EXPECT_TRUE(within_ulp(x.device_values(stream), x.host, 0));  // gate and up untouched
    }
}

TEST_P(RowOpsTest, SwiGlu) {
    check_glu(device(), GluKind::SiLU, GetParam(), false);
    check_glu(device(), GluKind::SiLU, GetParam(), true);
}

TEST_P(RowOpsTest, GeGlu) {
    check_glu(device(), GluKind::GeluTanh, GetParam(), false);
    check_glu(device(), GluKind::GeluTanh, GetParam(), true);
}

TEST_P(RowOpsTest, Gelu) {
    const Layout l = GetParam();
    CommandStream stream(device());
    std::vector<float> values = random_normal(l.floats(), 8, 4.0f);
    for (size_t i = 0; i < values.size(); i += 5) values[i] *= 4.0f;
    Twin x(device(), stream, values);
    RowOps ops(device());
    ops.gelu(stream, x.rows(l), l.n, l.width);
    for (uint32_t r = 0; r < l.n; ++r) kernels::gelu_inplace(x.row(l, r), l.width);
    EXPECT_TRUE(within_ulp(x.device_values(stream), x.host, 0));
}

// cap 1 is tanh().
void check_softcap(const Device& device, const Layout& l, float cap) {
    CommandStream stream(device);
    Twin x(device, stream, random_normal(l.floats(), 9, 2.0f * cap));
    RowOps ops(device);
    if (cap == 1.0f) {
        ops.tanh(stream, x.rows(l), l.n, l.width);
    } else {
        ops.softcap(stream, x.rows(l), l.n, l.width, cap);
    }
    const std::vector<bool> in_rows = testing::in_rows(l, x.host.size());
    for (uint32_t r = 0; r < l.n; ++r)
        for (uint32_t c = 0; c < l.width; ++c)
            x.row(l, r)[c] = cap * std::tanh(x.row(l, r)[c] / cap);
    const std::vector<float> got = x.device_values(stream);
    for (size_t i = 0; i < got.size(); ++i)
        ASSERT_NEAR(got[i], x.host[i], in_rows[i] ? kTanhAbs * cap : 0.0f) << "float " << i;
}

TEST_P(RowOpsTest, Tanh) {
    check_softcap(device(), GetParam(), 1.0f);
}

TEST_P(RowOpsTest, Softcap) {
    check_softcap(device(), GetParam(), 30.0f);
}

TEST_P(RowOpsTest, GatherRows) {
    const Layout dst = GetParam();
    const Layout src{dst.n + 3, dst.width, 2, dst.width + 11};
    CommandStream stream(device());
    const Twin s(device(), stream, random_normal(src.floats(), 10, 1.0f));
    Twin d(device(), stream, random_normal(dst.floats(), 11, 1.0f));
    std::vector<uint32_t> rows = {99, 98};  // rows_offset skips these
    for (uint32_t r = 0; r < dst.n; ++r) rows.push_back((5 * r + 2) % src.n);
    const Buffer rows_buf = testing::device_u32(device(), stream, rows);
    RowOps ops(device());
    ops.gather_rows(stream, s.rows(src), rows_buf, 2, d.rows(dst), dst.n, dst.width);
    for (uint32_t r = 0; r < dst.n; ++r) {
        const float* from = s.host.data() + src.offset + size_t{rows[2 + r]} * src.stride;
        std::copy_n(from, dst.width, d.row(dst, r));
    }
    EXPECT_TRUE(within_ulp(d.device_values(stream), d.host, 0));
}

INSTANTIATE_TEST_SUITE_P(Layouts, RowOpsTest, ::testing::ValuesIn(testing::kLayouts));

class RowOpsEdgeTest : public testing::VulkanTest {};

// Every F16 value, the floats half way between neighbours (ties round to even) and the edges
// at +-10: the lookup must pick the CPU's table entry for each.
TEST_F(RowOpsEdgeTest, GeluMatchesTheCpuForEveryF16Input) {
    std::vector<float> values;
    for (uint16_t h = 0; h < 0x7bff; ++h) {  // finite, with a finite neighbour above
        const float f = fp16_to_fp32(h);
        const float mid = 0.5f * (f + fp16_to_fp32(h + 1));  // exact: a tie
        for (const float v : {f, mid, std::nextafter(mid, 0.0f), std::nextafter(mid, 1e9f)}) {
            values.push_back(v);
            values.push_back(-v);
        }
    }
    for (const float v : {10.0f, 9.999f, 10.001f, 0.5f / 16777216.0f, 65504.0f}) {
        values.push_back(v);
        values.push_back(-v);
    }
    const uint32_t width = static_cast<uint32_t>(values.size());
    CommandStream stream(device());
    Twin x(device(), stream, values);
    Twin gate(device(), stream, values);
    Twin up(device(), stream, random_normal(width, 12, 1.0f));
    RowOps ops(device());
    const Layout l{1, width, 0, width};
    ops.gelu(stream, x.rows(l), 1, width);
    ops.glu(stream, GluKind::GeluTanh, gate.rows(l), up.rows(l), up.rows(l), 1, width);
    kernels::gelu_inplace(x.host.data(), static_cast<int>(width));
    kernels::geglu(gate.host.data(), up.host.data(), up.host.data(), static_cast<int>(width));
    EXPECT_TRUE(within_ulp(x.device_values(stream), x.host, 0));
    EXPECT_TRUE(within_ulp(up.device_values(stream), up.host, 0));
}

TEST_F(RowOpsEdgeTest, SiluAtTheEdgesOfItsExp) {
    const std::vector<float> gate = {-1000.0f, -100.0f, -88.5f, -88.0f, -87.5f, -87.0f,
                                     -1e-30f,  -0.0f,   0.0f,   1e-30f, 1e-3f,  1.0f,
                                     86.9f,    87.0f,   87.5f,  88.0f,  100.0f, 1e30f};
    const uint32_t width = static_cast<uint32_t>(gate.size());
    CommandStream stream(device());
    const Twin g(device(), stream, gate);
    Twin up(device(), stream, std::vector<float>(width, 1.5f));
    const Layout l{1, width, 0, width};
    RowOps ops(device());
    ops.glu(stream, GluKind::SiLU, g.rows(l), up.rows(l), up.rows(l), 1, width);
    kernels::swiglu(g.host.data(), up.host.data(), up.host.data(), static_cast<int>(width));
    EXPECT_TRUE(within_ulp(up.device_values(stream), up.host, kSiluUlp));
}

// More rows than one grid dimension holds on most devices: they go on in z.
TEST_F(RowOpsEdgeTest, ManyRows) {
    const uint32_t max_x = device().limits().maxComputeWorkGroupCount[0];
    const uint32_t n = std::min<uint32_t>(max_x, 1u << 20) + 5;
    const Layout l{n, 3, 1, 4};
    CommandStream stream(device());
    Twin x(device(), stream, random_normal(l.floats(), 13, 1.0f));
    RowOps ops(device());
    ops.scale(stream, x.rows(l), n, 3, -2.0f);
    for (uint32_t r = 0; r < n; ++r)
        for (uint32_t c = 0; c < 3; ++c) x.row(l, r)[c] *= -2.0f;
    EXPECT_TRUE(within_ulp(x.device_values(stream), x.host, 0));
}

}  // namespace
}  // namespace lokal::vk
