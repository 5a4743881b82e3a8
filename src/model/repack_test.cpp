// Load-time repacking: the packable matrices of a real model file are packed (unless
// LOKAL_REPACK=0), the rest keep their mmap'd rows, and lookups still read the stored rows.
#include <gtest/gtest.h>

#include "base/test_support.h"
#include "kernels/cpu/packed.h"
#include "model/model.h"

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
        EXPECT_FALSE(w.tok_embd.packed) << file;  // embedding lookups read the file's rows
    }
}

}  // namespace
}  // namespace lokal::model
