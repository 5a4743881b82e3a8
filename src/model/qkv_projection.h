// The q/k/v projection both forward passes share (decoder and encoder blocks): one fused matrix
// or three, then the biases the layer has.
#pragma once

#include "backends/backend.h"

namespace lokal::model {

// q, k and v are the column ranges of qkv the fused matrix writes in that order.
template <typename Layer>
void project_qkv(backends::Backend& b, const Layer& L, backends::Cols x, backends::Cols qkv,
                 backends::Cols q, backends::Cols k, backends::Cols v, int n) {
    if (L.wqkv.rows > 0) {
        b.matmul(L.wqkv, x, qkv, n);
    } else {
        b.matmul(L.wq, x, q, n);
        b.matmul(L.wk, x, k, n);
        b.matmul(L.wv, x, v, n);
    }
    if (!L.bq.empty()) b.add_bias(q, L.bq, n);
    if (!L.bk.empty()) b.add_bias(k, L.bk, n);
    if (!L.bv.empty()) b.add_bias(v, L.bv, n);
}

}  // namespace lokal::model
