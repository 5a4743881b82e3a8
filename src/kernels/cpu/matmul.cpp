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
    // Each thread owns a block of weight rows and streams it once for the whole batch.
    pool.parallel_for(w.rows, row_grain, [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) {
            const uint8_t* wr = w.row(r);
            int64_t b = 0;
            if (k.vec_dot_x4) {
                for (; b + 4 <= n_batch; b += 4) {
                    const void* rows[4] = {act + b * act_row, act + (b + 1) * act_row,
                                           act + (b + 2) * act_row, act + (b + 3) * act_row};
                    float out[4];
                    k.vec_dot_x4(w.cols, wr, rows, out);
                    for (int i = 0; i < 4; ++i) y[(b + i) * ldy + r] = out[i];
                }
            }
            for (; b < n_batch; ++b) y[b * ldy + r] = k.vec_dot(w.cols, wr, act + b * act_row);
        }
    });
}

void get_row(const MatrixView& w, int64_t r, float* dst) {
    dequantize_row(w.type, w.row(r), dst, w.cols);
}

}  // namespace lokal::kernels
