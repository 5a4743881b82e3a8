// Load-time repacking: the packable matrices of a real model file are packed (unless
// LOKAL_REPACK=0), the rest keep their mmap'd rows, and embedding lookups give the stored rows
// whether they read the file or (tied to a packed output matrix) the packed copy.
#include <gtest/gtest.h>

#include "base/test_support.h"
#include "kernels/cpu/matmul.h"
#include "kernels/cpu/packed.h"
#include "model/model.h"
#include "tensor/dequantize.h"

namespace lokal::model {
namespace {

TEST(Repack, PackableMatricesOfAModelArePacked) {
    for (const char* file : {"models/tiny-llama-h64-q4_0.gguf", "models/tiny-llama-h64-q8_0.gguf",
                             "models/tiny-llama-h64-q4_k_m.gguf"}) {
        auto model = Model::load(testing::testdata_path(file));
        const Weights& w = model->weights();
        int packable = 0, packed = 0;
        uint64_t bytes = 0;
        for (const LayerWeights& L : w.layers) {
            for (const MatrixView* m :
                 {&L.wq, &L.wk, &L.wv, &L.wo, &L.w_gate, &L.w_up, &L.w_down}) {
                if (!kernels::can_pack(m->type, m->rows, m->cols) && !m->packed) continue;
                ++packable;
                packed += m->packed;
                if (m->packed) bytes += kernels::packed_group_bytes(m->type, m->cols) * m->rows / 8;
            }
        }
        EXPECT_GT(packable, 0) << file;
        EXPECT_EQ(packed, kernels::repack_enabled() ? packable : 0) << file;
        if (w.output.packed)
            bytes += kernels::packed_group_bytes(w.output.type, w.output.cols) * w.output.rows / 8;
        EXPECT_EQ(model->packed().bytes(), bytes) << file;

        const gguf::TensorInfo* embd = model->file().find_tensor("token_embd.weight");
        ASSERT_NE(embd, nullptr) << file;
        const bool tied = model->file().find_tensor("output.weight") == nullptr;
        EXPECT_EQ(w.tok_embd.packed, tied && w.output.packed) << file;
        const int64_t cols = (int64_t)embd->cols();
        const uint64_t stride = embd->n_bytes / embd->rows();
        std::vector<float> want(cols), got(cols);
        for (int64_t r :
             {(int64_t)0, (int64_t)1, (int64_t)embd->rows() / 2, (int64_t)embd->rows() - 1}) {
            dequantize_row(embd->type, embd->data + r * stride, want.data(), cols);
            kernels::get_row(w.tok_embd, r, got.data());
            EXPECT_EQ(got, want) << file << " row " << r;
        }
    }
}

}  // namespace
}  // namespace lokal::model
