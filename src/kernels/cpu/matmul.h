// Matrix products of a (possibly quantized) weight matrix with a batch of activation rows:
// Y[b][r] = sum_c W[r][c] * X[b][c]. Activations are converted once per row to the weight type's
// activation format (e.g. Q8_0 for Q4_0 weights) and reused across all weight rows; threads
// split the weight rows.
#pragma once

#include <cstdint>
#include <vector>

#include "base/thread_pool.h"
#include "tensor/dtype.h"

namespace lokal::kernels {

// A weight matrix of shape (rows, cols), row-major in its stored type (usually mmap'd), or
// packed into groups of 8 interleaved rows (see packed.h).
struct MatrixView {
    DType type = DType::F32;
    int64_t rows = 0;
    int64_t cols = 0;
    const uint8_t* data = nullptr;
    uint64_t row_stride = 0;  // bytes between rows; between groups of 8 rows when packed
    bool packed = false;

    const uint8_t* row(int64_t r) const { return data + r * row_stride; }  // unpacked only
};

// Reusable buffers for quantized activations and their packed-kernel side data; they grow to the
// largest batch seen.
struct MatmulScratch {
    std::vector<uint8_t> act;
    std::vector<uint8_t> act_info;
};

// x: n_batch rows of w.cols floats (stride w.cols); y: n_batch rows with stride ldy >= w.rows.
void matmul(const MatrixView& w, const float* x, int64_t n_batch, float* y, int64_t ldy,
            ThreadPool& pool, MatmulScratch& scratch);

// Copies row r of w into dst as floats (embedding lookup); packed matrices included.
void get_row(const MatrixView& w, int64_t r, float* dst);

}  // namespace lokal::kernels
