#include "model/attention.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/cpu/vec_dot.h"
#include "model/attention_internal.h"

namespace lokal::model {
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
    const double tol = GetParam() == KvType::F32 ? 1e-5 : 5e-3;  // F16 storage and accumulator
    for (int d = 0; d < hd; ++d) EXPECT_NEAR(out[d], ref[d], tol) << d;
}

INSTANTIATE_TEST_SUITE_P(KvTypes, AttentionTest, ::testing::Values(KvType::F32, KvType::F16));

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
    if (kernels::active_isa() == kernels::Isa::Scalar) GTEST_SKIP() << "no AVX2 here";
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
            ASSERT_EQ(std::memcmp(&got[l], &want, 4), 0)
                << x[i + l] << " " << got[l] << " " << want;
        }
    }
}

TEST(Attention, F16Avx2IsBitIdenticalToScalar) {
    if (!kernels::isa_supported(kernels::Isa::Avx2)) GTEST_SKIP() << "no AVX2 on this CPU";
    const int hd = 128, n = 50;
    std::mt19937 rng(11);
    std::normal_distribution<float> nd(0.0f, 2.0f);
    KvCache pool(1, hd, KvType::F16, n);
    ASSERT_TRUE(pool.reserve(0, 0, n));
    std::vector<float> row(hd), row2(hd);
    for (int j = 0; j < n; ++j) {
        for (auto& x : row) x = nd(rng);
        for (auto& x : row2) x = nd(rng);
        pool.store(0, 0, j, row.data(), row2.data());
    }
    for (float softcap : {0.0f, 5.0f}) {
        for (int first : {0, 20}) {
            std::vector<float> q(hd);
            for (auto& x : q) x = nd(rng);
            AttentionParams p;
            p.head_dim = hd;
            p.first = first;
            p.last = n - 1;
            p.scale = 0.09f;
            p.softcap = softcap;
            std::vector<float> a(hd), b(hd);
            detail::attend_f16_scalar(q.data(), pool.view(0), 0, p, a.data());
            detail::attend_f16_avx2(q.data(), pool.view(0), 0, p, b.data());
            for (int d = 0; d < hd; ++d) ASSERT_EQ(a[d], b[d]) << "dim " << d;
        }
    }
}
#endif

// Grouped-query heads read the cache together and must give exactly what the scalar version
// gives head by head, for every group size the models use and beyond the kernel's limit.
// Head sizes 64 and 80 take both of the AVX2 kernel's value loops (4 vectors and 1 at a time);
// 45 positions from 3 are five full tiles of keys and a partial one.
class GroupedAttention : public ::testing::TestWithParam<int> {};

TEST_P(GroupedAttention, HeadsAreBitIdenticalToOneByOne) {
    const int hd = GetParam(), n = 45, kv_heads = 2;
    std::mt19937 rng(5);
    std::normal_distribution<float> nd(0.0f, 1.5f);
    KvCache pool(1, hd * kv_heads, KvType::F16, n);
    ASSERT_TRUE(pool.reserve(0, 0, n));
    std::vector<float> krow(hd * kv_heads), vrow(hd * kv_heads);
    for (int j = 0; j < n; ++j) {
        for (auto& x : krow) x = nd(rng);
        for (auto& x : vrow) x = nd(rng);
        pool.store(0, 0, j, krow.data(), vrow.data());
    }
    for (int heads : {1, 2, 4, 7, 8, 11}) {
        for (float softcap : {0.0f, 30.0f}) {
            std::vector<std::vector<float>> q(heads, std::vector<float>(hd));
            std::vector<std::vector<float>> one(heads, std::vector<float>(hd)), grouped = one;
            std::vector<const float*> qp;
            std::vector<float*> op;
            for (int g = 0; g < heads; ++g) {
                for (auto& x : q[g]) x = nd(rng);
                qp.push_back(q[g].data());
                op.push_back(grouped[g].data());
            }
            AttentionParams p;
            p.head_dim = hd;
            p.kv_offset = hd;
            p.first = 3;
            p.last = n - 1;
            p.scale = 0.125f;
            p.softcap = softcap;
            for (int g0 = 0; g0 < heads; g0 += kMaxGroupHeads) {
                const int ng = std::min(kMaxGroupHeads, heads - g0);
                attend_group(qp.data() + g0, ng, pool.view(0), 0, p, op.data() + g0);
            }
            for (int g = 0; g < heads; ++g) {
                detail::attend_f16_scalar(q[g].data(), pool.view(0), 0, p, one[g].data());
                for (int d = 0; d < hd; ++d) {
                    ASSERT_EQ(grouped[g][d], one[g][d]) << heads << " heads, head " << g;
                }
            }
        }
    }
}

INSTANTIATE_TEST_SUITE_P(HeadSizes, GroupedAttention, ::testing::Values(64, 80));

}  // namespace
}  // namespace lokal::model
