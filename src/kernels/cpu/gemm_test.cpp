// gemm (every ISA) against repeated vec_dot and the scalar reference, bit for bit, and matmul against a plain loop of reference dots.
#include <gtest/gtest.h>

#include <vector>

#include "base/random_values.h"
#include "base/thread_pool.h"
#include "kernels/cpu/matmul.h"
#include "kernels/cpu/vec_dot.h"
#include "tensor/dequantize.h"
#include "tensor/quantize.h"

namespace lokal::kernels {
namespace {

const DType kTypes[] = {DType::F32,  DType::F16,  DType::BF16, DType::Q4_0, DType::Q4_1,
                        DType::Q5_0, DType::Q5_1, DType::Q8_0, DType::Q2_K, DType::Q3_K,
                        DType::Q4_K, DType::Q5_K, DType::Q6_K};

struct Problem {
    int64_t n = 0, rows = 0, batch = 0;
    std::vector<uint8_t> w;    // rows x n, stored type
    std::vector<uint8_t> act;  // batch x n, act type
    size_t w_stride = 0, act_stride = 0;
};

Problem make_problem(DType t, int64_t n, int64_t rows, int64_t batch, uint32_t seed) {
    Problem p{n, rows, batch, {}, {}, row_bytes(t, n), 0};
    p.w.resize(p.w_stride * rows);
    for (int64_t r = 0; r < rows; ++r) {
        const std::vector<float> x = random_normal(n, seed + (uint32_t)r, 0.05f);
        quantize_row(t, x.data(), p.w.data() + r * p.w_stride, n);
    }
    const DType at = kernels_ref(t).act_type;
    p.act_stride = row_bytes(at, n);
    p.act.resize(p.act_stride * batch);
    for (int64_t b = 0; b < batch; ++b) {
        const std::vector<float> x = random_normal(n, seed + 1000 + (uint32_t)b, 1.0f);
        quantize_row(at, x.data(), p.act.data() + b * p.act_stride, n);
    }
    return p;
}

TEST(Gemm, EqualsRepeatedVecDotOfItsIsaAndTheReference) {
    int checked = 0;
    for (Isa isa : kAllIsas) {
        if (!isa_supported(isa)) continue;
        for (DType t : kTypes) {
            const TypeKernels& k = kernels_for(t, isa);
            ASSERT_NE(k.gemm, nullptr) << dtype_name(t);
            // 37 weight rows (tiles of 16 plus a tail), 15 activation rows (groups of 8 and 4, plus
            // 3).
            const Problem p = make_problem(t, 512, 37, 15, 5);
            const size_t ldy = 40;
            std::vector<float> y(ldy * p.batch, -1.0f);
            k.gemm(p.n, p.w.data(), p.w_stride, (int)p.rows, p.act.data(), p.act_stride,
                   (int)p.batch, y.data(), ldy);
            for (int64_t b = 0; b < p.batch; ++b) {
                const uint8_t* a = p.act.data() + b * p.act_stride;
                for (int64_t r = 0; r < p.rows; ++r) {
                    const uint8_t* w = p.w.data() + r * p.w_stride;
                    const float got = y[b * ldy + r];
                    ASSERT_EQ(got, k.vec_dot(p.n, w, a))
                        << isa_name(isa) << " " << dtype_name(t) << " r=" << r << " b=" << b;
                    ASSERT_EQ(got, kernels_ref(t).vec_dot(p.n, w, a))
                        << isa_name(isa) << " " << dtype_name(t) << " r=" << r << " b=" << b;
                }
                for (int64_t r = p.rows; r < (int64_t)ldy; ++r) ASSERT_EQ(y[b * ldy + r], -1.0f);
            }
            ++checked;
        }
    }
    EXPECT_GT(checked, 0);
}

// Float weights have no blocks: rows of any width, with the tails past the last 32 and 8.
TEST(Gemm, FloatRowsOfAnyWidthEqualVecDot) {
    for (Isa isa : kAllIsas) {
        if (!isa_supported(isa)) continue;
        for (DType t : {DType::F16, DType::F32, DType::BF16}) {
            const TypeKernels& k = kernels_for(t, isa);
            for (int64_t n : {200, 45, 7}) {
                const Problem p = make_problem(t, n, 70, 7, 9);
                std::vector<float> y(p.rows * p.batch);
                k.gemm(p.n, p.w.data(), p.w_stride, (int)p.rows, p.act.data(), p.act_stride,
                       (int)p.batch, y.data(), p.rows);
                for (int64_t b = 0; b < p.batch; ++b) {
                    for (int64_t r = 0; r < p.rows; ++r) {
                        const uint8_t* w = p.w.data() + r * p.w_stride;
                        const uint8_t* a = p.act.data() + b * p.act_stride;
                        ASSERT_EQ(y[b * p.rows + r], k.vec_dot(p.n, w, a))
                            << isa_name(isa) << " " << dtype_name(t) << " n=" << n;
                        ASSERT_EQ(y[b * p.rows + r], kernels_ref(t).vec_dot(p.n, w, a))
                            << isa_name(isa) << " " << dtype_name(t) << " n=" << n;
                    }
                }
            }
        }
    }
}

TEST(Matmul, BatchedEqualsSingleRowsForEveryBatchSize) {
    ThreadPool pool(2);
    MatmulScratch scratch;
    for (DType t : {DType::Q4_K, DType::Q8_0, DType::Q6_K, DType::Q4_1, DType::F16}) {
        const int64_t rows = 70, cols = 512;
        std::vector<uint8_t> w(row_bytes(t, cols) * rows);
        for (int64_t r = 0; r < rows; ++r) {
            const std::vector<float> x = random_normal(cols, 50 + (uint32_t)r, 0.05f);
            quantize_row(t, x.data(), w.data() + r * row_bytes(t, cols), cols);
        }
        const MatrixView mv{t, rows, cols, w.data(), row_bytes(t, cols)};
        for (int64_t batch : {1, 3, 4, 9}) {
            const std::vector<float> x = random_normal(cols * batch, 7, 1.0f);
            std::vector<float> y(rows * batch);
            matmul(mv, x.data(), batch, y.data(), rows, pool, scratch);
            for (int64_t b = 0; b < batch; ++b) {
                std::vector<float> y1(rows);
                matmul(mv, x.data() + b * cols, 1, y1.data(), rows, pool, scratch);
                for (int64_t r = 0; r < rows; ++r) {
                    // Bitwise: the prompt and generation paths must give the same logits.
                    ASSERT_EQ(y[b * rows + r], y1[r]) << dtype_name(t) << " batch=" << batch;
                }
            }
        }
    }
}

}  // namespace
}  // namespace lokal::kernels
