#include "model/attention.h"

#include <gtest/gtest.h>

#include <cmath>
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
