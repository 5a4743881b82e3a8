#include "kernels/cpu/matmul.h"

#include <algorithm>

#include "kernels/cpu/packed.h"
#include "kernels/cpu/vec_dot.h"
#include "tensor/dequantize.h"

namespace lokal::kernels {
namespace {

// Waking threads costs microseconds: below this much work one thread is faster.
constexpr int64_t kMinWorkPerThread = 1 << 16;  // multiply-adds

// The batch's activations in the weight type's activation format, with the packed kernels' side
// data when w is packed.
struct QuantizedBatch {
    const uint8_t* act = nullptr;
    uint64_t act_row = 0;
    const uint8_t* info = nullptr;
    uint64_t info_row = 0;
};

QuantizedBatch quantize_batch(DType act_type, const MatrixView& w, const float* x, int64_t n_batch,
                              ThreadPool& pool, MatmulScratch& scratch) {
    QuantizedBatch q;
    q.act_row = row_bytes(act_type, w.cols);
    if (scratch.act.size() < q.act_row * n_batch) scratch.act.resize(q.act_row * n_batch);
    uint8_t* act = scratch.act.data();
    uint8_t* info = nullptr;
    if (w.packed) {
        q.info_row = packed_act_info_bytes(w.type, w.cols);
        if (scratch.act_info.size() < q.info_row * n_batch) {
            scratch.act_info.resize(q.info_row * n_batch);
        }
        info = scratch.act_info.data();
    }
    pool.parallel_for(
        n_batch, std::max<int64_t>(1, kMinWorkPerThread / w.cols), [&](int64_t b0, int64_t b1) {
            for (int64_t b = b0; b < b1; ++b) {
                quantize_activations(act_type, x + b * w.cols, act + b * q.act_row, w.cols);
                if (info) {
                    prepare_packed_act(w.type, act + b * q.act_row, w.cols, info + b * q.info_row);
                }
            }
        });
    q.act = act;
    q.info = info;
    return q;
}

// A prompt's quantized activations (512 rows of a 2048-wide matrix: 1.4 MB with their side
// data) outgrow L2, and the packed kernels run every activation row past one group of weights
// before the next: the batch then streams from L3 once per group. In slabs of at most this many
// bytes, a thread's groups all pass each slab while it stays in L2 (the weights, re-read once
// per slab, are the smaller stream). 1B Q4_0 pp512 with the AVX-512 kernels: +2-4% over no slabs
// at 256-768 KiB (`lokal bench -p 512`, Zen 5, 1 MiB L2).
constexpr uint64_t kActSlabBytes = 384 << 10;

// Activation rows per slab: a multiple of 16 (whole tiles of every kernel), at least 16.
int64_t act_slab_rows(uint64_t row_bytes) {
    return std::max<int64_t>(16, (int64_t)(kActSlabBytes / row_bytes) / 16 * 16);
}

}  // namespace

void matmul(const MatrixView& w, const float* x, int64_t n_batch, float* y, int64_t ldy,
            ThreadPool& pool, MatmulScratch& scratch) {
    const TypeKernels& k = kernels_for(w.type);
    const QuantizedBatch q = quantize_batch(k.act_type, w, x, n_batch, pool, scratch);
    const int64_t row_grain =
        std::max<int64_t>(16, kMinWorkPerThread / std::max<int64_t>(1, w.cols * n_batch));
    if (w.packed) {
        const PackedGemmFn gemm = packed_gemm_for(w.type);
        const int64_t slab = act_slab_rows(q.act_row + q.info_row);
        pool.parallel_for(
            w.rows / kPackRows, std::max<int64_t>(1, row_grain / kPackRows),
            [&](int64_t g0, int64_t g1) {
                for (int64_t b0 = 0; b0 < n_batch; b0 += slab) {
                    gemm(w.cols, w.data + g0 * w.row_stride, w.row_stride, (int)(g1 - g0),
                         q.act + b0 * q.act_row, q.act_row, q.info + b0 * q.info_row, q.info_row,
                         (int)std::min(slab, n_batch - b0), y + b0 * ldy + g0 * kPackRows, ldy);
                }
            });
        return;
    }
    // Each thread owns a block of weight rows and streams it once for the whole batch; the gemm
    // tiles it so that each weight block is unpacked once per four activation rows.
    pool.parallel_for(w.rows, row_grain, [&](int64_t r0, int64_t r1) {
        if (n_batch == 1) {
            for (int64_t r = r0; r < r1; ++r) y[r] = k.vec_dot(w.cols, w.row(r), q.act);
            return;
        }
        k.gemm(w.cols, w.row(r0), w.row_stride, (int)(r1 - r0), q.act, q.act_row, (int)n_batch,
               y + r0, ldy);
    });
}

void get_row(const MatrixView& w, int64_t r, float* dst) {
    if (!w.packed) {
        dequantize_row(w.type, w.row(r), dst, w.cols);
        return;
    }
    thread_local std::vector<uint8_t> row;
    row.resize(row_bytes(w.type, w.cols));
    unpack_row(w.type, w.data + (r / kPackRows) * w.row_stride, (int)(r % kPackRows), w.cols,
               row.data());
    dequantize_row(w.type, row.data(), dst, w.cols);
}

}  // namespace lokal::kernels
