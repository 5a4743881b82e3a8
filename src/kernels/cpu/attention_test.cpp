#include "kernels/cpu/attention.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "base/fp16.h"
#include "kernels/cpu/attention_internal.h"
#include "kernels/cpu/attention_kernels.h"
#include "kernels/cpu/vec_dot.h"

namespace lokal::kernels {
namespace {

// Naive two-pass softmax attention in double precision.
std::vector<double> reference(const std::vector<float>& q, const std::vector<std::vector<float>>& k,
                              const std::vector<std::vector<float>>& v, float scale) {
    std::vector<double> s(k.size());
    double mx = -1e300;
    for (size_t j = 0; j < k.size(); ++j) {
        double dot = 0;
        for (size_t d = 0; d < q.size(); ++d) dot += (double)q[d] * k[j][d];
        s[j] = dot * scale;
        mx = std::max(mx, s[j]);
    }
    double sum = 0;
    for (double& x : s) sum += (x = std::exp(x - mx));
    std::vector<double> out(q.size(), 0.0);
    for (size_t j = 0; j < k.size(); ++j) {
        for (size_t d = 0; d < q.size(); ++d) out[d] += s[j] / sum * v[j][d];
    }
    return out;
}

class AttentionTest : public ::testing::TestWithParam<KvType> {};

TEST_P(AttentionTest, MatchesTwoPassSoftmax) {
    const int hd = 64, n = 37, kv_heads = 2;
    std::mt19937 rng(7);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    KvCache pool(1, hd * kv_heads, GetParam(), n, 8);
    ASSERT_TRUE(pool.reserve(0, 0, n));
    std::vector<std::vector<float>> k(n, std::vector<float>(hd)), v = k;
    for (int j = 0; j < n; ++j) {
        std::vector<float> krow(hd * kv_heads), vrow(hd * kv_heads);
        for (auto& x : krow) x = nd(rng);
        for (auto& x : vrow) x = nd(rng);
        pool.store(0, 0, j, krow.data(), vrow.data());
        for (int d = 0; d < hd; ++d) {
            k[j][d] = krow[hd + d];  // head 1
            v[j][d] = vrow[hd + d];
        }
    }
    std::vector<float> q(hd);
    for (auto& x : q) x = nd(rng);
    AttentionParams p;
    p.head_dim = hd;
    p.kv_offset = hd;
    p.first = 0;
    p.last = n - 1;
    p.scale = 0.125f;
    std::vector<float> out(hd);
    attend(q.data(), pool.view(0), 0, p, out.data());
    const auto ref = reference(q, k, v, p.scale);
    // F16: storage and accumulator; Q8_0: 8-bit keys, values and query (steps of max/127).
    const double tol = GetParam() == KvType::F32 ? 1e-5 : GetParam() == KvType::F16 ? 5e-3 : 1e-2;
    double err = 0;
    for (int d = 0; d < hd; ++d) {
        EXPECT_NEAR(out[d], ref[d], tol) << d;
        err = std::max(err, std::fabs(out[d] - ref[d]));
    }
    RecordProperty("max_abs_diff", std::to_string(err));
}

INSTANTIATE_TEST_SUITE_P(KvTypes, AttentionTest,
                         ::testing::Values(KvType::F32, KvType::F16, KvType::Q8_0),
                         [](const auto& p) { return std::string(kv_type_name(p.param)); });

TEST(KvType, NamesParseBackAnyCase) {
    for (KvType t : {KvType::F16, KvType::F32, KvType::Q8_0}) {
        EXPECT_EQ(parse_kv_type(kv_type_name(t)), t);
    }
    EXPECT_EQ(parse_kv_type("Q8_0"), KvType::Q8_0);
    EXPECT_FALSE(parse_kv_type("q4_0").has_value());
    EXPECT_FALSE(parse_kv_type("").has_value());
    EXPECT_EQ(kv_row_bytes(KvType::Q8_0, 128), 4 * 34u);
    EXPECT_EQ(kv_row_bytes(KvType::F16, 128), 256u);
}

// A Q8_0 cache row holds exactly what Q8_0 quantization of the stored floats gives.
TEST(KvCacheQ8, StoresQ8_0Blocks) {
    const int elems = 96;
    KvCache pool(2, elems, KvType::Q8_0, 20, 8);
    ASSERT_TRUE(pool.reserve(0, 0, 20));
    std::vector<float> k(elems), v(elems);
    for (int i = 0; i < elems; ++i) {
        k[i] = std::sin(0.3f * (float)i) * 3.0f;
        v[i] = (float)(i % 7) - 3.0f;
    }
    pool.store(0, 1, 13, k.data(), v.data());
    const KvSeqView view = pool.view(0);
    for (int i = 0; i < elems; ++i) {
        const auto* kb = static_cast<const block_q8_0*>(view.k_row(1, 13)) + i / 32;
        const auto* vb = static_cast<const block_q8_0*>(view.v_row(1, 13)) + i / 32;
        EXPECT_NEAR((float)kb->qs[i % 32] * fp16_to_fp32(kb->d), k[i], 3.0f / 127) << i;
        EXPECT_NEAR((float)vb->qs[i % 32] * fp16_to_fp32(vb->d), v[i], 3.0f / 127) << i;
    }
    EXPECT_EQ(pool.page_bytes(), 2u * 2 * 8 * 3 * sizeof(block_q8_0));
}

TEST(SoftmaxExp, WithinTwoUlpOfExpAndZeroFarBelow) {
    std::mt19937 rng(5);
    std::uniform_real_distribution<float> dist(-87.0f, 0.0f);
    for (int i = 0; i < 200000; ++i) {
        const float x = i < 1000 ? -1e-3f * (float)i : dist(rng);
        const float want = std::exp(x), got = detail::softmax_exp(x);
        ASSERT_LE(std::fabs(got - want), 2.0f * (std::nextafter(want, 1e30f) - want)) << x;
    }
    EXPECT_EQ(detail::softmax_exp(0.0f), 1.0f);
    EXPECT_EQ(detail::softmax_exp(-INFINITY), 0.0f);
    EXPECT_EQ(detail::softmax_exp(-100.0f), 0.0f);
    EXPECT_EQ(detail::softmax_exp(NAN), 0.0f);
}

#if defined(__x86_64__)  // the AVX2 versions are built for x86-64 only
TEST(SoftmaxExp, Avx2IsBitIdenticalToScalar) {
    if (!isa_supported(Isa::Avx2)) GTEST_SKIP() << "no AVX2 on this CPU";
    std::mt19937 rng(6);
    std::uniform_real_distribution<float> dist(-90.0f, 1.0f);
    std::vector<float> x(80000);
    for (float& v : x) v = dist(rng);
    const float specials[] = {0.0f, -0.0f, -INFINITY, NAN, -87.0f, -86.99f, -87.01f, -1e-30f, 1.0f};
    std::copy(std::begin(specials), std::end(specials), x.begin());
    for (size_t i = 0; i + 8 <= x.size(); i += 8) {
        float got[8];
        detail::softmax_exp8_avx2(&x[i], got);
        for (int l = 0; l < 8; ++l) {
            const float want = detail::softmax_exp(x[i + l]);
            ASSERT_EQ(std::bit_cast<uint32_t>(got[l]), std::bit_cast<uint32_t>(want))
                << x[i + l] << " " << got[l] << " " << want;
        }
    }
}

#endif

// A one-layer cache of n positions of two random KV heads, and the parameters that attend head 1
// from position 3 on (the window starts mid-tile).
struct RandomCache {
    KvCache pool;
    int hd, n;

    RandomCache(int head_dim, int positions, KvType type, std::mt19937& rng,
                std::normal_distribution<float>& nd)
        : pool(1, 2 * head_dim, type, positions), hd(head_dim), n(positions) {
        EXPECT_TRUE(pool.reserve(0, 0, n));
        std::vector<float> krow(2 * hd), vrow(2 * hd);
        for (int j = 0; j < n; ++j) {
            for (auto& x : krow) x = nd(rng);
            for (auto& x : vrow) x = nd(rng);
            pool.store(0, 0, j, krow.data(), vrow.data());
        }
    }

    AttentionParams params(float scale, float softcap) const {
        AttentionParams p;
        p.head_dim = hd;
        p.kv_offset = hd;
        p.first = 3;
        p.last = n - 1;
        p.scale = scale;
        p.softcap = softcap;
        return p;
    }
};

// Random query heads, with outputs for attending them one by one and as a group.
struct QueryHeads {
    std::vector<std::vector<float>> q, one, grouped;
    std::vector<const float*> qp;
    std::vector<float*> op;

    QueryHeads(int heads, int hd, std::mt19937& rng, std::normal_distribution<float>& nd)
        : q(heads, std::vector<float>(hd)), one(q), grouped(q) {
        for (int g = 0; g < heads; ++g) {
            for (auto& x : q[g]) x = nd(rng);
            qp.push_back(q[g].data());
            op.push_back(grouped[g].data());
        }
    }
};

// Grouped-query heads read the cache together and must give exactly what the scalar version
// gives head by head, for every group size the models use and beyond the kernel's limit.
// Head sizes 64 and 80 take both of the AVX2 kernel's value loops (4 vectors and 1 at a time);
// 45 positions from 3 are five full tiles of keys and a partial one.
class GroupedAttention : public ::testing::TestWithParam<int> {};

TEST_P(GroupedAttention, HeadsAreBitIdenticalToOneByOne) {
    const int hd = GetParam();
    std::mt19937 rng(5);
    std::normal_distribution<float> nd(0.0f, 1.5f);
    const RandomCache c(hd, 45, KvType::F16, rng, nd);
    for (int heads : {1, 2, 4, 7, 8, 11}) {
        for (float softcap : {0.0f, 30.0f}) {
            QueryHeads h(heads, hd, rng, nd);
            const AttentionParams p = c.params(0.125f, softcap);
            for (int g0 = 0; g0 < heads; g0 += kMaxGroupHeads) {
                const int ng = std::min(kMaxGroupHeads, heads - g0);
                attend_group(h.qp.data() + g0, ng, c.pool.view(0), 0, p, h.op.data() + g0);
            }
            for (int g = 0; g < heads; ++g) {
                detail::attend_f16_scalar(h.q[g].data(), c.pool.view(0), 0, p, h.one[g].data());
                for (int d = 0; d < hd; ++d) {
                    ASSERT_EQ(h.grouped[g][d], h.one[g][d]) << heads << " heads, head " << g;
                }
            }
        }
    }
}

INSTANTIATE_TEST_SUITE_P(HeadSizes, GroupedAttention, ::testing::Values(64, 80));

// Every instruction set's table against the scalar one, bit for bit, on every cache type: one
// head or groups of up to 11 (past the kernels' group limit of 8), head sizes of 1 to 16 blocks
// of 32 (the F16 kernels' 4- and 1-vector value loops included; 40 is not a multiple of 32, 12
// not of 8), windows that start mid-tile and soft-capping. 45 positions from 3: five full key
// tiles and a partial one.
class AttentionTables : public ::testing::TestWithParam<int> {};

TEST_P(AttentionTables, EveryIsaIsBitIdenticalToScalar) {
    const int hd = GetParam();
    std::mt19937 rng(9);
    std::normal_distribution<float> nd(0.0f, 1.5f);
    int compared = 0;
    for (KvType type : {KvType::F16, KvType::Q8_0, KvType::F32}) {
        if (type == KvType::Q8_0 && hd % 32 != 0) continue;
        const RandomCache c(hd, 45, type, rng, nd);
        for (int heads : {1, 2, 4, 7, 8, 11}) {
            for (float softcap : {0.0f, 30.0f}) {
                QueryHeads h(heads, hd, rng, nd);
                const AttentionParams p = c.params(1.0f / std::sqrt((float)hd), softcap);
                attention_kernels(type, Isa::Scalar)
                    .heads(h.qp.data(), heads, c.pool.view(0), 0, p, h.op.data());
                h.one = h.grouped;
                for (Isa isa : kAllIsas) {
                    if (isa == Isa::Scalar || !isa_supported(isa)) continue;
                    attention_kernels(type, isa)
                        .heads(h.qp.data(), heads, c.pool.view(0), 0, p, h.op.data());
                    for (int g = 0; g < heads; ++g) {
                        for (int d = 0; d < hd; ++d) {
                            ASSERT_EQ(std::bit_cast<uint32_t>(h.grouped[g][d]),
                                      std::bit_cast<uint32_t>(h.one[g][d]))
                                << isa_name(isa) << " " << kv_type_name(type) << ", " << heads
                                << " heads, head " << g << ", element " << d;
                        }
                    }
                    ++compared;
                }
            }
        }
    }
    if (compared == 0) GTEST_SKIP() << "only the scalar kernels on this CPU";
}

INSTANTIATE_TEST_SUITE_P(HeadSizes, AttentionTables,
                         ::testing::Values(12, 32, 40, 64, 80, 128, 256, 512));

}  // namespace
}  // namespace lokal::kernels
