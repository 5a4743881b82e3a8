#include "kernels/cpu/attention_tiled.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <random>
#include <vector>

#include "base/fp16.h"
#include "kernels/cpu/attention_internal.h"
#include "kernels/cpu/attention_kernels.h"
#include "kernels/cpu/vec_dot.h"

namespace lokal::kernels {
namespace {

struct TiledCase {
    int head_dim;
    int n_keys;  // cached positions
    int n_rows;  // query rows
    int window;  // 0: causal rows ending at the last positions; else a sliding window
    float softcap;
    KvType kv;
};

// A cache of n_keys positions with two KV heads of random rows (head 1 is attended), and n_rows
// query rows: the last positions of a causal prompt, each row three heads of the same position.
struct Fixture {
    KvCache cache;
    std::vector<float> q;
    std::vector<QueryRow> rows;
    std::vector<float> out_a, out_b;
    AttentionParams p;

    explicit Fixture(const TiledCase& c)
        : cache(1, 2 * c.head_dim, c.kv, c.n_keys, 16),
          q((size_t)c.n_rows * c.head_dim),
          out_a(q.size(), -1.0f),
          out_b(q.size(), -2.0f) {
        std::mt19937 rng((unsigned)(c.head_dim * 131 + c.n_keys * 7 + c.n_rows));
        std::normal_distribution<float> nd(0.0f, 1.0f);
        EXPECT_TRUE(cache.reserve(0, 0, c.n_keys));
        std::vector<float> krow(2 * (size_t)c.head_dim), vrow(krow.size());
        for (int j = 0; j < c.n_keys; ++j) {
            for (auto& x : krow) x = nd(rng);
            for (auto& x : vrow) x = nd(rng);
            cache.store(0, 0, j, krow.data(), vrow.data());
        }
        for (auto& x : q) x = 2.0f * nd(rng);
        for (int r = 0; r < c.n_rows; ++r) {
            const int last = std::max(0, c.n_keys - 1 - (c.n_rows - 1 - r) / 3);
            const int first = c.window > 0 ? std::max(0, last - c.window + 1) : 0;
            rows.push_back({q.data() + (size_t)r * c.head_dim, nullptr, first, last});
        }
        p.head_dim = c.head_dim;
        p.kv_offset = c.head_dim;
        p.scale = 1.0f / std::sqrt((float)c.head_dim);
        p.softcap = c.softcap;
    }

    std::vector<QueryRow> rows_to(std::vector<float>& out) const {
        std::vector<QueryRow> r = rows;
        for (size_t i = 0; i < r.size(); ++i) r[i].out = out.data() + i * p.head_dim;
        return r;
    }
};

std::vector<float> tiled_scratch_buffer(int head_dim) {
    return std::vector<float>(tiled_scratch_floats(head_dim), std::nanf(""));
}

class TiledAttention : public ::testing::TestWithParam<TiledCase> {};

// Every instruction set's tiled kernel against the scalar one (head sizes that are not a multiple
// of 8 take the scalar path everywhere).
TEST_P(TiledAttention, EveryIsaIsBitIdenticalToScalar) {
    Fixture f(GetParam());
    const KvType type = f.cache.type();
    std::vector<float> scratch = tiled_scratch_buffer(GetParam().head_dim);
    attention_kernels(type, Isa::Scalar)
        .tiled(f.rows_to(f.out_a), f.cache.view(0), 0, f.p, scratch.data());
    int compared = 0;
    for (Isa isa : kAllIsas) {
        if (isa == Isa::Scalar || !isa_supported(isa)) continue;
        scratch = tiled_scratch_buffer(GetParam().head_dim);
        attention_kernels(type, isa).tiled(f.rows_to(f.out_b), f.cache.view(0), 0, f.p,
                                           scratch.data());
        for (size_t i = 0; i < f.out_a.size(); ++i) {
            ASSERT_EQ(std::bit_cast<uint32_t>(f.out_a[i]), std::bit_cast<uint32_t>(f.out_b[i]))
                << isa_name(isa) << " element " << i << ": " << f.out_a[i] << " vs "
                << f.out_b[i];
        }
        ++compared;
    }
    if (compared == 0) GTEST_SKIP() << "only the scalar kernels on this CPU";
}

// The cache's stored values (F16, F32 or dequantized Q8_0) attended in double precision, two-pass
// softmax.
std::vector<double> exact_attention(const Fixture& f, const QueryRow& row) {
    const KvSeqView view = f.cache.view(0);
    auto at = [&](const void* base, int d) {
        const int e = f.p.kv_offset + d;
        if (view.type() == KvType::Q8_0) {
            const block_q8_0& b = static_cast<const block_q8_0*>(base)[e / 32];
            return (double)b.qs[e % 32] * fp16_to_fp32(b.d);
        }
        return view.type() == KvType::F16
                   ? (double)fp16_to_fp32(static_cast<const uint16_t*>(base)[e])
                   : (double)static_cast<const float*>(base)[e];
    };
    const int hd = f.p.head_dim;
    std::vector<double> s;
    double mx = -1e300;
    for (int j = row.first; j <= row.last; ++j) {
        double dot = 0;
        for (int d = 0; d < hd; ++d) dot += (double)row.q[d] * at(view.k_row(0, j), d);
        double x = dot * f.p.scale;
        if (f.p.softcap > 0) x = f.p.softcap * std::tanh(x / f.p.softcap);
        s.push_back(x);
        mx = std::max(mx, x);
    }
    double sum = 0;
    for (double& x : s) sum += (x = std::exp(x - mx));
    std::vector<double> out(hd, 0.0);
    for (int j = row.first; j <= row.last; ++j) {
        for (int d = 0; d < hd; ++d) out[d] += s[j - row.first] / sum * at(view.v_row(0, j), d);
    }
    return out;
}

// F32 scores and accumulators: close to exact on either cache type (unlike the F16-accumulator
// row-by-row path, which is within a few F16 steps).
TEST_P(TiledAttention, MatchesExactAttention) {
    const TiledCase& c = GetParam();
    Fixture f(c);
    std::vector<float> scratch = tiled_scratch_buffer(c.head_dim);
    attend_tiled(f.rows_to(f.out_a), f.cache.view(0), 0, f.p, scratch.data());
    for (size_t r = 0; r < f.rows.size(); ++r) {
        const std::vector<double> want = exact_attention(f, f.rows[r]);
        for (int d = 0; d < c.head_dim; ++d) {
            ASSERT_NEAR(f.out_a[r * c.head_dim + d], want[d], 2e-5)
                << "row " << r << " element " << d;
        }
    }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, TiledAttention,
    ::testing::Values(TiledCase{64, 200, 64, 0, 0.0f, KvType::F16},  // three full key tiles + 8
                      TiledCase{64, 200, 64, 0, 0.0f, KvType::F32},
                      TiledCase{128, 97, 21, 0, 0.0f, KvType::F16},   // 3 + 1 row blocks
                      TiledCase{8, 70, 63, 0, 0.0f, KvType::F16},     // stories260K's heads
                      TiledCase{256, 64, 7, 0, 0.0f, KvType::F16},    // the largest head
                      TiledCase{80, 131, 30, 0, 0.0f, KvType::F32},   // 80 = 4 x 16 + 8 + 8
                      TiledCase{64, 300, 64, 16, 0.0f, KvType::F16},  // sliding window
                      TiledCase{64, 150, 40, 70, 0.0f, KvType::F32},  // window across two tiles
                      TiledCase{64, 90, 33, 0, 50.0f, KvType::F16},   // soft-capping
                      TiledCase{12, 75, 17, 0, 0.0f, KvType::F32},    // scalar only
                      TiledCase{64, 1, 1, 0, 0.0f, KvType::F16},
                      TiledCase{64, 200, 64, 0, 0.0f, KvType::Q8_0},
                      TiledCase{128, 150, 40, 70, 0.0f, KvType::Q8_0},  // window, 4 blocks
                      TiledCase{256, 90, 33, 0, 50.0f, KvType::Q8_0}),
    [](const ::testing::TestParamInfo<TiledCase>& p) {
        const TiledCase& c = p.param;
        return "hd" + std::to_string(c.head_dim) + "_keys" + std::to_string(c.n_keys) + "_rows" +
               std::to_string(c.n_rows) + "_window" + std::to_string(c.window) +
               (c.softcap > 0 ? "_softcap" : "") + "_" + kv_type_name(c.kv);
    });

// Two rows whose windows are disjoint ranges of the cache: each sees only its own keys, so its
// output is exactly the mean of one visible value row when that window holds one key.
TEST(TiledAttention, RowsSeeOnlyTheirOwnWindows) {
    const int hd = 16, n = 140;
    KvCache cache(1, hd, KvType::F32, n, 16);
    ASSERT_TRUE(cache.reserve(0, 0, n));
    std::vector<float> krow(hd, 0.5f), vrow(hd);
    for (int j = 0; j < n; ++j) {
        for (int d = 0; d < hd; ++d) vrow[d] = (float)(j * 100 + d);
        cache.store(0, 0, j, krow.data(), vrow.data());
    }
    std::vector<float> q(hd, 1.0f), out(2 * hd);
    const QueryRow rows[2] = {{q.data(), out.data(), 3, 3}, {q.data(), out.data() + hd, 130, 130}};
    AttentionParams p;
    p.head_dim = hd;
    p.scale = 0.25f;
    std::vector<float> scratch = tiled_scratch_buffer(hd);
    attend_tiled(rows, cache.view(0), 0, p, scratch.data());
    for (int d = 0; d < hd; ++d) {
        EXPECT_EQ(out[d], (float)(300 + d));
        EXPECT_EQ(out[hd + d], (float)(13000 + d));
    }
}

}  // namespace
}  // namespace lokal::kernels
