// Packed 8-row groups: packing is exactly invertible, every isa's kernel equals the scalar
// reference bit for bit at every batch size, and the results agree with the unpacked kernels.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <utility>
#include <vector>

#include "base/fp16.h"
#include "base/random_values.h"
#include "base/thread_pool.h"
#include "kernels/cpu/matmul.h"
#include "kernels/cpu/packed.h"
#include "kernels/cpu/vec_dot.h"
#include "tensor/dequantize.h"
#include "tensor/quant_blocks.h"
#include "tensor/quantize.h"

namespace lokal::kernels {
namespace {

const DType kPackedTypes[] = {DType::F16,  DType::BF16, DType::Q4_0,   DType::Q5_0,  DType::Q8_0,
                              DType::Q4_K, DType::Q6_K, DType::Q5_K,   DType::Q3_K,  DType::Q2_K,
                              DType::Q4_1, DType::Q5_1, DType::IQ4_NL, DType::IQ4_XS};

struct Packed {
    int64_t rows = 0, cols = 0;
    std::vector<uint8_t> stored;  // rows x cols in the stored format
    std::vector<uint8_t> packed;
    uint64_t row_stride = 0, group_stride = 0;
};

Packed make_packed(DType t, int64_t rows, int64_t cols, uint32_t seed) {
    Packed p{rows, cols, {}, {}, row_bytes(t, cols), packed_group_bytes(t, cols)};
    p.stored.resize(p.row_stride * rows);
    for (int64_t r = 0; r < rows; ++r) {
        // Rows of different magnitudes, some with an offset (exercises q4_K mins).
        std::vector<float> x = random_normal(cols, seed + (uint32_t)r, 0.02f * (1 + r % 5));
        if (r % 3 == 0) {
            for (float& v : x) v += 0.03f;
        }
        quantize_row(t, x.data(), p.stored.data() + r * p.row_stride, cols);
    }
    p.packed.resize(p.group_stride * (rows / kPackRows));
    pack_groups(t, p.stored.data(), p.row_stride, cols, 0, rows / kPackRows, p.packed.data());
    return p;
}

TEST(Packed, CanPackNeedsWholeGroupsAndBlocks) {
    EXPECT_TRUE(can_pack(DType::Q4_0, 16, 64));
    EXPECT_FALSE(can_pack(DType::Q4_0, 12, 64));    // not a multiple of 8 rows
    EXPECT_FALSE(can_pack(DType::Q4_K, 16, 64));    // not a whole super-block
    EXPECT_FALSE(can_pack(DType::Q8_1, 16, 256));   // no packed layout
    EXPECT_FALSE(can_pack(DType::Q5_K, 16, 288));   // not whole super-blocks
    EXPECT_FALSE(can_pack(DType::IQ4_XS, 16, 64));  // not a whole super-block
    EXPECT_FALSE(can_pack(DType::F16, 16, 260));    // not a whole block of 8 columns
    EXPECT_FALSE(can_pack(DType::F32, 16, 256));
    if (isa_supported(Isa::Avx2)) {  // x86-64 has packed kernels of every packed type
        for (DType t : kPackedTypes) EXPECT_TRUE(can_pack(t, 16, 256)) << dtype_name(t);
    }
}

TEST(Packed, UnpackRowRestoresEveryStoredRowExactly) {
    for (DType t : kPackedTypes) {
        const Packed p = make_packed(t, 24, 512, 3);
        std::vector<uint8_t> row(p.row_stride);
        for (int64_t r = 0; r < p.rows; ++r) {
            unpack_row(t, p.packed.data() + (r / 8) * p.group_stride, (int)(r % 8), p.cols,
                       row.data());
            ASSERT_EQ(0, std::memcmp(row.data(), p.stored.data() + r * p.row_stride, p.row_stride))
                << dtype_name(t) << " row " << r;
        }
    }
}

struct Acts {
    std::vector<uint8_t> act, info;
    uint64_t act_stride = 0, info_stride = 0;
};

Acts make_acts(DType t, int64_t cols, int n, uint32_t seed) {
    const DType at = kernels_ref(t).act_type;
    Acts a{{}, {}, row_bytes(at, cols), packed_act_info_bytes(t, cols)};
    a.act.resize(a.act_stride * n);
    a.info.resize(a.info_stride * n);
    for (int b = 0; b < n; ++b) {
        const std::vector<float> x = random_normal(cols, seed + 100 + (uint32_t)b, 1.0f);
        quantize_row(at, x.data(), a.act.data() + b * a.act_stride, cols);
        prepare_packed_act(t, a.act.data() + b * a.act_stride, cols,
                           a.info.data() + b * a.info_stride);
    }
    return a;
}

// Every packed type in a shape of 4 groups and one of 3 groups of 3 super-blocks (odd counts).
struct TypeShape {
    DType t;
    int64_t rows, cols;
};

std::vector<TypeShape> type_shapes() {
    std::vector<TypeShape> out;
    for (DType t : kPackedTypes) {
        out.push_back({t, 32, 1024});
        out.push_back({t, 24, 768});
    }
    return out;
}

TEST(Packed, EveryIsaEqualsTheReferenceBitForBitAtEveryBatchSize) {
    int checked = 0;
    for (const auto& [t, rows, cols] : type_shapes()) {
        const Packed p = make_packed(t, rows, cols, 11);
        const int n_groups = (int)(p.rows / 8);
        for (int n_act : {1, 3, 4, 9, 53}) {  // 53: two AMX tiles, one, and a tail of 5
            const Acts a = make_acts(t, p.cols, n_act, 17);
            const size_t ldy = p.rows + 8;  // a row stride wider than the rows
            std::vector<float> want(ldy * n_act, -1.0f);
            packed_gemm_for(t, Isa::Scalar)(p.cols, p.packed.data(), p.group_stride, n_groups,
                                            a.act.data(), a.act_stride, a.info.data(),
                                            a.info_stride, n_act, want.data(), ldy);
            for (Isa isa : kAllIsas) {
                if (isa == Isa::Scalar || !isa_supported(isa)) continue;
                std::vector<float> got(ldy * n_act, -1.0f);
                packed_gemm_for(t, isa)(p.cols, p.packed.data(), p.group_stride, n_groups,
                                        a.act.data(), a.act_stride, a.info.data(), a.info_stride,
                                        n_act, got.data(), ldy);
                for (size_t i = 0; i < got.size(); ++i) {
                    ASSERT_EQ(got[i], want[i]) << isa_name(isa) << " " << dtype_name(t)
                                               << " n_act=" << n_act << " i=" << i;
                }
                ++checked;
            }
            // Agrees with the unpacked reference dot product (a different rounding order).
            for (int b = 0; b < n_act; ++b) {
                for (int64_t r = 0; r < p.rows; ++r) {
                    const float ref =
                        kernels_ref(t).vec_dot(p.cols, p.stored.data() + r * p.row_stride,
                                               a.act.data() + b * a.act_stride);
                    ASSERT_NEAR(want[b * ldy + r], ref, 1e-4 * (std::fabs(ref) + 1.0f))
                        << dtype_name(t) << " r=" << r << " b=" << b;
                }
                for (int64_t r = p.rows; r < (int64_t)ldy; ++r) ASSERT_EQ(want[b * ldy + r], -1.0f);
            }
        }
    }
    if (isa_supported(Isa::Avx2) || isa_supported(Isa::Neon)) {
        EXPECT_GT(checked, 0);
    }
}

// The largest quants (every stored byte 0xFF but the scales) against activations of +127 and
// -128 keep the SIMD kernels' 16-bit partial sums exact.
template <typename Block>
void saturate_rows(std::vector<uint8_t>& stored) {
    auto* b = reinterpret_cast<Block*>(stored.data());
    std::memset(stored.data(), 0xFF, stored.size());
    for (size_t i = 0; i < stored.size() / sizeof(Block); ++i) {
        b[i].d = fp32_to_fp16(0.01f);
        if constexpr (requires { b[i].dmin; }) b[i].dmin = fp32_to_fp16(0.02f);
    }
}

TEST(Packed, LargestQuantsStayExact) {
    const std::pair<DType, void (*)(std::vector<uint8_t>&)> kTypes[] = {
        {DType::Q4_K, saturate_rows<block_q4_K>},
        {DType::Q5_K, saturate_rows<block_q5_K>},
        {DType::Q3_K, saturate_rows<block_q3_K>},
        {DType::Q2_K, saturate_rows<block_q2_K>},
        {DType::IQ4_XS, saturate_rows<block_iq4_xs>}};
    for (const auto& [t, saturate] : kTypes) {
        Packed p = make_packed(t, 16, 512, 5);
        saturate(p.stored);
        pack_groups(t, p.stored.data(), p.row_stride, p.cols, 0, 2, p.packed.data());
        const int n_act = 5;
        Acts a = make_acts(t, p.cols, n_act, 7);
        for (int b = 0; b < n_act; ++b) {
            auto* blocks = reinterpret_cast<block_q8_K*>(a.act.data() + b * a.act_stride);
            const int8_t v = b % 2 ? 127 : -128;
            for (int64_t ib = 0; ib < p.cols / kQKK; ++ib) {
                std::memset(blocks[ib].qs, (uint8_t)v, sizeof blocks[ib].qs);
                for (int16_t& s : blocks[ib].bsums) s = (int16_t)(16 * v);
            }
            prepare_packed_act(t, a.act.data() + b * a.act_stride, p.cols,
                               a.info.data() + b * a.info_stride);
        }
        std::vector<float> want(16 * n_act);
        packed_gemm_for(t, Isa::Scalar)(p.cols, p.packed.data(), p.group_stride, 2, a.act.data(),
                                        a.act_stride, a.info.data(), a.info_stride, n_act,
                                        want.data(), 16);
        for (int b = 0; b < n_act; ++b) {
            for (int r = 0; r < 16; ++r) {
                const float ref = kernels_ref(t).vec_dot(p.cols, p.stored.data() + r * p.row_stride,
                                                         a.act.data() + b * a.act_stride);
                ASSERT_NEAR(want[b * 16 + r], ref, 1e-5 * std::fabs(ref)) << dtype_name(t);
            }
        }
        for (Isa isa : kAllIsas) {
            if (isa == Isa::Scalar || !isa_supported(isa)) continue;
            std::vector<float> got(16 * n_act);
            packed_gemm_for(t, isa)(p.cols, p.packed.data(), p.group_stride, 2, a.act.data(),
                                    a.act_stride, a.info.data(), a.info_stride, n_act, got.data(),
                                    16);
            ASSERT_EQ(got, want) << isa_name(isa) << " " << dtype_name(t);
        }
    }
}

TEST(Packed, MatmulAndGetRowOfAPackedMatrix) {
    ThreadPool pool(2);
    MatmulScratch scratch;
    for (DType t : kPackedTypes) {
        Packed p = make_packed(t, 64, 512, 23);
        const MatrixView plain{t, p.rows, p.cols, p.stored.data(), p.row_stride, false};
        const MatrixView packed{t, p.rows, p.cols, p.packed.data(), p.group_stride, true};
        for (int64_t batch : {1, 5}) {
            const std::vector<float> x = random_normal(p.cols * batch, 31, 1.0f);
            std::vector<float> y_plain(p.rows * batch), y_packed(p.rows * batch);
            matmul(plain, x.data(), batch, y_plain.data(), p.rows, pool, scratch);
            matmul(packed, x.data(), batch, y_packed.data(), p.rows, pool, scratch);
            for (size_t i = 0; i < y_plain.size(); ++i) {
                ASSERT_NEAR(y_packed[i], y_plain[i], 1e-4 * (std::fabs(y_plain[i]) + 1.0f))
                    << dtype_name(t) << " batch=" << batch;
            }
            // Each batch row alone gives the same bits as within the batch.
            for (int64_t b = 0; b < batch; ++b) {
                std::vector<float> y1(p.rows);
                matmul(packed, x.data() + b * p.cols, 1, y1.data(), p.rows, pool, scratch);
                for (int64_t r = 0; r < p.rows; ++r) ASSERT_EQ(y1[r], y_packed[b * p.rows + r]);
            }
        }
        std::vector<float> want(p.cols), got(p.cols);
        for (int64_t r : {0, 7, 8, 63}) {
            get_row(plain, r, want.data());
            get_row(packed, r, got.data());
            ASSERT_EQ(want, got) << dtype_name(t) << " row " << r;
        }
    }
}

// Kernels that take the groups in pairs (AVX-512) leave an odd last group to another kernel.
TEST(Packed, AnOddNumberOfGroupsEqualsTheReferenceBitForBit) {
    for (DType t : kPackedTypes) {
        const Packed p = make_packed(t, 24, 512, 41);
        for (int n_act : {1, 5}) {
            const Acts a = make_acts(t, p.cols, n_act, 43);
            const size_t ldy = 24;
            std::vector<float> want(ldy * n_act);
            packed_gemm_for(t, Isa::Scalar)(p.cols, p.packed.data(), p.group_stride, 3,
                                            a.act.data(), a.act_stride, a.info.data(),
                                            a.info_stride, n_act, want.data(), ldy);
            for (Isa isa : kAllIsas) {
                if (!isa_supported(isa)) continue;
                std::vector<float> got(ldy * n_act, -1.0f);
                packed_gemm_for(t, isa)(p.cols, p.packed.data(), p.group_stride, 3, a.act.data(),
                                        a.act_stride, a.info.data(), a.info_stride, n_act,
                                        got.data(), ldy);
                ASSERT_EQ(got, want) << isa_name(isa) << " " << dtype_name(t) << " " << n_act;
            }
        }
    }
}

}  // namespace
}  // namespace lokal::kernels
