// The AMX tile kernels of packed Q4_0/Q5_0/Q8_0/Q4_K/Q6_K, run on the emulated tiles (this machine
// has no AMX): its layouts and tile shapes are checked on every AVX2 machine, and it must equal the
// scalar reference bit for bit. On an AMX machine packed_test.cpp also runs the real one.
// (x86-64 only: the emulated kernel's vector code is AVX2.)
#if defined(__x86_64__)
#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

#include "base/random_values.h"
#include "kernels/cpu/amx_tile_emulator.h"
#include "kernels/cpu/packed.h"
#include "kernels/cpu/packed_amx_kernel.h"
#include "kernels/cpu/vec_dot.h"
#include "tensor/quantize.h"

namespace lokal::kernels {
namespace {

using amx::EmulatedTiles;

struct Problem {
    int64_t rows, cols;
    int n_act;
    std::vector<uint8_t> packed, act, info;
    uint64_t group_stride, act_stride, info_stride;
};

Problem make_problem(DType t, int64_t rows, int64_t cols, int n_act, uint32_t seed) {
    const DType act_type = kernels_ref(t).act_type;
    Problem p{rows,
              cols,
              n_act,
              {},
              {},
              {},
              packed_group_bytes(t, cols),
              row_bytes(act_type, cols),
              packed_act_info_bytes(t, cols)};
    const uint64_t row_stride = row_bytes(t, cols);
    std::vector<uint8_t> stored(rows * row_stride);
    for (int64_t r = 0; r < rows; ++r) {
        const std::vector<float> x = random_normal(cols, seed + (uint32_t)r, 0.02f * (1 + r % 3));
        quantize_row(t, x.data(), stored.data() + r * row_stride, cols);
    }
    p.packed.resize(p.group_stride * (rows / kPackRows));
    pack_groups(t, stored.data(), row_stride, cols, 0, rows / kPackRows, p.packed.data());
    p.act.resize(p.act_stride * n_act);
    p.info.resize(p.info_stride * n_act);
    for (int b = 0; b < n_act; ++b) {
        const std::vector<float> x = random_normal(cols, seed + 1000 + (uint32_t)b, 1.0f);
        quantize_row(act_type, x.data(), p.act.data() + b * p.act_stride, cols);
        prepare_packed_act(t, p.act.data() + b * p.act_stride, cols,
                           p.info.data() + b * p.info_stride);
    }
    return p;
}

// The emulated kernel of type t, with `rest` for the rows outside whole tiles.
void emulated_gemm(DType t, PackedGemmFn rest, const Problem& p, int n_groups, float* y,
                   size_t ldy) {
    const auto call = [&](auto rows, amx::OperandsFn operands) {
        amx::gemm<EmulatedTiles, decltype(rows)>(
            operands, rest, p.cols, p.packed.data(), p.group_stride, n_groups, p.act.data(),
            p.act_stride, p.info.data(), p.info_stride, p.n_act, y, ldy);
    };
    switch (t) {
        case DType::Q4_0:
            return call(amx::Q32Rows{}, amx::q4_0_operands);
        case DType::Q5_0:
            return call(amx::Q32Rows{}, amx::q5_0_operands);
        case DType::Q8_0:
            return call(amx::Q32Rows{}, amx::q8_0_operands);
        case DType::Q4_K:
            return call(amx::Q4KRows{}, amx::q4_K_operands);
        default:
            return call(amx::Q6KRows{}, amx::q6_K_operands);
    }
}

std::vector<float> run(PackedGemmFn gemm, const Problem& p, size_t ldy) {
    std::vector<float> y(ldy * p.n_act, -1.0f);
    gemm(p.cols, p.packed.data(), p.group_stride, (int)(p.rows / kPackRows), p.act.data(),
         p.act_stride, p.info.data(), p.info_stride, p.n_act, y.data(), ldy);
    return y;
}

// The emulated kernel's AVX2 fallback for rows outside whole tiles counts its calls.
int g_rest_rows = 0;
PackedGemmFn g_rest = nullptr;
void counting_rest(int64_t cols, const uint8_t* w, size_t group_stride, int n_groups,
                   const uint8_t* act, size_t act_stride, const uint8_t* info, size_t info_stride,
                   int n_act, float* y, size_t ldy) {
    g_rest_rows += n_act;
    g_rest(cols, w, group_stride, n_groups, act, act_stride, info, info_stride, n_act, y, ldy);
}

TEST(PackedAmx, EmulatedTileKernelEqualsTheReferenceBitForBit) {
    if (!isa_supported(Isa::Avx2)) GTEST_SKIP() << "the kernel's float steps need AVX2";
    for (DType t : {DType::Q4_0, DType::Q5_0, DType::Q8_0, DType::Q4_K, DType::Q6_K}) {
        g_rest = packed_gemm_for(t, Isa::Avx2);
        // 24 rows: a pair of groups and a single one. Batches: one tile, a tile and a tail, a
        // pair of tiles, a pair, a single tile and a tail; under 16 all goes to the fallback.
        for (int n_act : {16, 20, 32, 53, 7}) {
            const Problem p = make_problem(t, 24, 512, n_act, 5);
            const size_t ldy = 30;
            const std::vector<float> want = run(packed_gemm_for(t, Isa::Scalar), p, ldy);
            std::vector<float> got(ldy * n_act, -1.0f);
            g_rest_rows = 0;
            emulated_gemm(t, counting_rest, p, 3, got.data(), ldy);
            EXPECT_EQ(g_rest_rows, n_act % 16) << dtype_name(t) << " n_act=" << n_act;
            for (size_t i = 0; i < got.size(); ++i) {
                ASSERT_EQ(got[i], want[i]) << dtype_name(t) << " n_act=" << n_act << " i=" << i;
            }
        }
    }
}

TEST(PackedAmx, TheKernelReleasesItsTiles) {
    if (!isa_supported(Isa::Avx2)) GTEST_SKIP() << "the kernel's float steps need AVX2";
    const Problem p = make_problem(DType::Q8_0, 8, 64, 16, 9);
    std::vector<float> y(8 * 16);
    emulated_gemm(DType::Q8_0, packed_gemm_for(DType::Q8_0, Isa::Avx2), p, 1, y.data(), 8);
    EXPECT_FALSE(EmulatedTiles::state().configured);
}

// The emulator must reject what the hardware rejects, or the test above could pass a kernel
// that faults on a real AMX CPU.
TEST(PackedAmx, EmulatorRejectsMismatchedTileShapes) {
    amx::TileConfig c = amx::tile_config();
    EmulatedTiles::configure(c);
    EXPECT_NO_THROW((EmulatedTiles::dot<4, 0, 2>()));
    EXPECT_THROW((EmulatedTiles::dot<4, 0, 4>()), std::logic_error);  // C as B: 16 rows x 4 != 32

    c.rows[amx::kTileB] = 4;  // K = 16 while A rows hold 32 bytes
    EmulatedTiles::configure(c);
    EXPECT_THROW((EmulatedTiles::dot<4, 0, 2>()), std::logic_error);

    c = amx::tile_config();
    c.colsb[5] = 64;  // C wider than B
    EmulatedTiles::configure(c);
    EXPECT_THROW((EmulatedTiles::dot<5, 0, 2>()), std::logic_error);

    c = amx::tile_config();
    c.palette_id = 0;
    EXPECT_THROW(EmulatedTiles::configure(c), std::logic_error);
    c = amx::tile_config();
    c.rows[9] = 16;
    c.colsb[9] = 64;
    EXPECT_THROW(EmulatedTiles::configure(c), std::logic_error);

    EmulatedTiles::release();
    EXPECT_THROW(EmulatedTiles::zero<0>(), std::logic_error);
}

TEST(PackedAmx, EmulatedDotProductIsTheVnniLayout) {
    amx::TileConfig c;
    c.rows[0] = 2;  // A: 2 x 8 bytes (K = 8)
    c.colsb[0] = 8;
    c.rows[1] = 2;  // B: K/4 = 2 rows of 3 columns x 4 bytes
    c.colsb[1] = 12;
    c.rows[2] = 2;  // C: 2 x 3 int32
    c.colsb[2] = 12;
    EmulatedTiles::configure(c);
    const int8_t a[2][8] = {{1, 2, 3, 4, 5, 6, 7, 8}, {-1, 0, 1, 0, -1, 0, 2, 3}};
    int8_t b[2][12];
    // B[k][4n + i] = column n's element 4k + i: column n = (n + 1) everywhere but -1 at k=1,i=3.
    for (int k = 0; k < 2; ++k) {
        for (int n = 0; n < 3; ++n) {
            for (int i = 0; i < 4; ++i) b[k][4 * n + i] = (int8_t)(k == 1 && i == 3 ? -1 : n + 1);
        }
    }
    EmulatedTiles::load<0>(a, 8);
    EmulatedTiles::load<1>(b, 12);
    EmulatedTiles::zero<2>();
    EmulatedTiles::dot<2, 0, 1>();
    int32_t out[2][3];
    EmulatedTiles::store<2>(out, 12);
    EmulatedTiles::release();
    for (int n = 0; n < 3; ++n) {
        EXPECT_EQ(out[0][n], (n + 1) * (1 + 2 + 3 + 4 + 5 + 6 + 7) - 8);
        EXPECT_EQ(out[1][n], (n + 1) * (-1 + 1 - 1 + 2) - 3);
    }
}

}  // namespace
}  // namespace lokal::kernels

#endif  // __x86_64__
