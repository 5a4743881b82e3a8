#include "kernels/cpu/matmul.h"

#include <algorithm>

#include "kernels/cpu/vec_dot.h"
#include "tensor/dequantize.h"

namespace lokal::kernels {

void matmul(const MatrixView& w, const float* x, int64_t n_batch, float* y, int64_t ldy,
            ThreadPool& pool, MatmulScratch& scratch) {
    const TypeKernels& k = kernels_for(w.type);
    const uint64_t act_row = row_bytes(k.act_type, w.cols);
    if (scratch.act.size() < act_row * n_batch) scratch.act.resize(act_row * n_batch);
    uint8_t* act = scratch.act.data();
    // Waking threads costs microseconds: below this much work one thread is faster.
    constexpr int64_t kMinWorkPerThread = 1 << 16;  // multiply-adds
    const int64_t row_grain =
        std::max<int64_t>(16, kMinWorkPerThread / std::max<int64_t>(1, w.cols * n_batch));
    pool.parallel_for(
        n_batch, std::max<int64_t>(1, kMinWorkPerThread / w.cols), [&](int64_t b0, int64_t b1) {
            for (int64_t b = b0; b < b1; ++b) {
                quantize_activations(k.act_type, x + b * w.cols, act + b * act_row, w.cols);
            }
        });
    // Each thread owns a block of weight rows and streams it once for the whole batch; the gemm
    // tiles it so that each weight block is unpacked once per four activation rows.
    pool.parallel_for(w.rows, row_grain, [&](int64_t r0, int64_t r1) {
        if (n_batch == 1) {
            for (int64_t r = r0; r < r1; ++r) y[r] = k.vec_dot(w.cols, w.row(r), act);
            return;
        }
        k.gemm(w.cols, w.row(r0), w.row_stride, (int)(r1 - r0), act, act_row, (int)n_batch, y + r0,
               ldy);
    });
}

void get_row(const MatrixView& w, int64_t r, float* dst) {
    dequantize_row(w.type, w.row(r), dst, w.cols);
}

}  // namespace lokal::kernels
