// KvAttention::attend against the CPU kernel (kernels::attend_group) and a double-precision
// reference computed here from the cached rows, over three sequences whose pages interleave.
//
// Tolerance against the double reference: 1e-4 absolute, outputs being averages of N(0,1)
// values. The shader works in fp32 throughout (rounding of a head_dim-term dot product, the
// device's exp and tanh, which Vulkan lets err by a few ulp times |x|, and a sum over at most
// 700 weighted values) for errors of order 1e-6; dropping or adding one position of the window
// moves an output by about |v| / window, above 1e-3.
// The CPU kernels trade some of that exactness for speed: with an F16 cache they round q to F16
// and keep the value accumulator in F16 (as llama.cpp does), with Q8_0 they quantize q to Q8_0.
// So the shader must be at least as close to the reference as the CPU kernel (within the fp32
// floor of 2e-5), and agree with the CPU within the CPU kernel's own error plus the shader's.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <ostream>
#include <string>
#include <vector>

#include "backends/vulkan/kv_attention.h"
#include "backends/vulkan/kv_test_cache.h"
#include "backends/vulkan/test_gpu.h"
#include "backends/vulkan/transfer.h"
#include "base/random_values.h"
#include "kernels/cpu/attention.h"
#include "tensor/dtype.h"

namespace lokal::vk {
namespace {

using kernels::KvType;
using testing::AttendCase;
using testing::KvTestCache;
using testing::SeqPos;
using testing::TestBatchIndex;

DType stored_type(KvType t) {
    constexpr DType kStored[] = {DType::F16, DType::F32, DType::Q8_0};  // KvType's order
    return kStored[static_cast<size_t>(t)];
}

// Elements [first, first + n) of a cached row, as floats.
std::vector<double> row_values(KvType t, const void* row, int row_elems, int first, int n) {
    std::vector<float> all(row_elems);
    dtype_info(stored_type(t)).to_float(row, all.data(), row_elems);
    return {all.begin() + first, all.begin() + first + n};
}

class KvAttendTest : public testing::VulkanTest,
                     public ::testing::WithParamInterface<AttendCase> {};

TEST_P(KvAttendTest, MatchesTheCpuKernelAndTheDoubleReference) {
    const AttendCase& c = GetParam();
    const int hd = c.head_dim, n_head = c.group * c.n_head_kv, width = n_head * hd;
    const int row_elems = c.n_head_kv * hd, layer = 1;
    const std::vector<int> lens = {37, 150, 700};
    KvTestCache cache(c.type, (uint32_t)row_elems, 2, 16, lens);
    uint32_t seed = 1;
    for (int s = 0; s < 3; ++s) {
        for (int l = 0; l < 2; ++l) {
            for (int pos = 0; pos < lens[s]; ++pos) {
                const std::vector<float> k = random_normal(row_elems, seed++, 1.0f);
                const std::vector<float> v = random_normal(row_elems, seed++, 1.0f);
                cache.cpu->store(s, l, pos, k.data(), v.data());
            }
        }
    }
    const std::vector<SeqPos> batch = {{0, 0},   {1, 149}, {2, 299}, {0, 36}, {2, 0},   {1, 75},
                                       {2, 128}, {2, 127}, {2, 200}, {1, 16}, {2, 699}, {2, 500}};
    const int n = (int)batch.size();

    backends::AttentionShape shape;
    shape.n_head = n_head;
    shape.n_head_kv = c.n_head_kv;
    shape.head_dim = hd;
    shape.scale = 2.0f / std::sqrt((float)hd);  // scores of sd 2: a peaked softmax
    shape.softcap = c.softcap;
    shape.window = c.window;

    // q and out as columns of wider rows.
    const int q_stride = width + 5, q_off = 2, o_stride = width + 3, o_off = 1;
    const std::vector<float> q = random_normal((int64_t)n * q_stride, 77, 1.0f);

    CommandStream stream(device());
    const std::vector<uint8_t> image = cache.pool_image();
    const Buffer pool(device(), image.size(), MemoryKind::DeviceLocal, "pool");
    upload(stream, pool, 0, image.data(), image.size());
    const Buffer q_buf(device(), 4 * q.size(), MemoryKind::DeviceLocal, "q");
    upload(stream, q_buf, 0, q.data(), 4 * q.size());
    const Buffer o_buf(device(), 4 * (size_t)n * o_stride, MemoryKind::DeviceLocal, "out");
    const TestBatchIndex idx(device(), stream, cache, batch);
    KvAttention kv(device(), cache.geometry);
    // max_visible hints: the default (as many splits as the batch's size allows: one tile each
    // here), 300 (at most 3 splits: several tiles each for the later positions), 1 (no split).
    const uint32_t hints[] = {UINT32_MAX, 300, 1};
    std::vector<std::vector<float>> outs;
    for (uint32_t hint : hints) {
        kv.attend(stream, pool, layer, {&q_buf, q_off, (uint32_t)q_stride},
                  {&o_buf, o_off, (uint32_t)o_stride}, (uint32_t)n, idx.index(), shape, hint);
        outs.emplace_back((size_t)n * o_stride);
        download(stream, o_buf, 0, outs.back().data(), 4 * outs.back().size());
    }

    double gpu_err = 0, cpu_err = 0, gpu_cpu = 0;
    for (int t = 0; t < n; ++t) {
        const auto [seq, last] = batch[t];
        const int first = c.window > 0 ? std::max(0, last - c.window + 1) : 0;
        const kernels::KvSeqView view = cache.cpu->view(seq);
        for (int kvh = 0; kvh < c.n_head_kv; ++kvh) {
            kernels::AttentionParams ap;
            ap.head_dim = hd;
            ap.kv_offset = kvh * hd;
            ap.first = first;
            ap.last = last;
            ap.scale = shape.scale;
            ap.softcap = shape.softcap;
            std::vector<float> cpu_out((size_t)c.group * hd);
            for (int g0 = 0; g0 < c.group; g0 += kernels::kMaxGroupHeads) {
                const int ng = std::min(kernels::kMaxGroupHeads, c.group - g0);
                const float* qs[kernels::kMaxGroupHeads];
                float* os[kernels::kMaxGroupHeads];
                for (int g = 0; g < ng; ++g) {
                    qs[g] = q.data() + (size_t)t * q_stride + q_off +
                            (size_t)(kvh * c.group + g0 + g) * hd;
                    os[g] = cpu_out.data() + (size_t)(g0 + g) * hd;
                }
                kernels::attend_group(qs, ng, view, layer, ap, os);
            }
            for (int g = 0; g < c.group; ++g) {
                const int h = kvh * c.group + g;
                const float* qh = q.data() + (size_t)t * q_stride + q_off + (size_t)h * hd;
                std::vector<double> w, ref(hd, 0.0);
                double m = -INFINITY, l = 0;
                for (int j = first; j <= last; ++j) {
                    const std::vector<double> k =
                        row_values(c.type, view.k_row(layer, j), row_elems, kvh * hd, hd);
                    double s = 0;
                    for (int d = 0; d < hd; ++d) s += (double)qh[d] * k[d];
                    s *= shape.scale;
                    if (c.softcap > 0) s = c.softcap * std::tanh(s / c.softcap);
                    w.push_back(s);
                    m = std::max(m, s);
                }
                for (int j = first; j <= last; ++j) {
                    const double e = std::exp(w[j - first] - m);
                    l += e;
                    const std::vector<double> v =
                        row_values(c.type, view.v_row(layer, j), row_elems, kvh * hd, hd);
                    for (int d = 0; d < hd; ++d) ref[d] += e * v[d];
                }
                for (int d = 0; d < hd; ++d) {
                    const double r = ref[d] / l;
                    const double cpu = cpu_out[(size_t)g * hd + d];
                    cpu_err = std::max(cpu_err, std::fabs(cpu - r));
                    for (size_t i = 0; i < outs.size(); ++i) {
                        const double gpu =
                            outs[i][(size_t)t * o_stride + o_off + (size_t)h * hd + d];
                        ASSERT_NEAR(gpu, r, 1e-4) << "token " << t << " head " << h << " dim " << d
                                                  << ", max_visible " << hints[i];
                        gpu_err = std::max(gpu_err, std::fabs(gpu - r));
                        gpu_cpu = std::max(gpu_cpu, std::fabs(gpu - cpu));
                    }
                }
            }
        }
    }
    EXPECT_LE(gpu_err, std::max(cpu_err, 2e-5)) << "the CPU kernel is closer to the reference";
    EXPECT_LE(gpu_cpu, cpu_err + gpu_err + 1e-6);
    std::printf("    max |error|: shader %.2g, CPU kernel %.2g\n", gpu_err, cpu_err);
}

// A decoding step of 32 heads of 128 over 4096 positions spreads over 32 workgroups per KV head.
TEST(KvAttentionSplits, DecodingSharesPositionsAmongWorkgroups) {
    EXPECT_EQ(KvAttention::splits_for(1, 32, 8, 4096), 32u);
    EXPECT_EQ(KvAttention::splits_for(1, 32, 8, 200), 2u);        // at least a tile each
    EXPECT_EQ(KvAttention::splits_for(1, 32, 8, 40 * 128), 20u);  // 20 blocks of 2 tiles
    EXPECT_EQ(KvAttention::splits_for(512, 32, 8, 4096), 1u);     // prompts fill the device alone
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, KvAttendTest,
    ::testing::Values(
        AttendCase{KvType::F32, 8, 1, 2, 0, 0}, AttendCase{KvType::F32, 64, 2, 2, 0, 0},
        AttendCase{KvType::F32, 128, 4, 2, 100, 0}, AttendCase{KvType::F32, 256, 8, 1, 0, 4},
        AttendCase{KvType::F32, 80, 1, 3, 64, 0}, AttendCase{KvType::F32, 64, 16, 1, 0, 0},
        AttendCase{KvType::F16, 8, 2, 2, 0, 0}, AttendCase{KvType::F16, 64, 1, 4, 0, 4},
        AttendCase{KvType::F16, 128, 8, 1, 0, 0}, AttendCase{KvType::F16, 256, 2, 2, 40, 0},
        AttendCase{KvType::F16, 80, 4, 1, 0, 0}, AttendCase{KvType::F16, 64, 1, 8, 0, 0},
        AttendCase{KvType::F16, 128, 4, 2, 90, 4}, AttendCase{KvType::Q8_0, 64, 1, 2, 0, 0},
        AttendCase{KvType::Q8_0, 128, 2, 2, 0, 0}, AttendCase{KvType::Q8_0, 256, 4, 1, 70, 0},
        AttendCase{KvType::Q8_0, 64, 8, 1, 0, 4}, AttendCase{KvType::Q8_0, 96, 2, 1, 1, 0}),
    testing::attend_case_name);

}  // namespace
}  // namespace lokal::vk
