// Bidirectional attention of an encoder pass that carries several sequences, in host memory:
// each row attends to the rows of its own sequence only.
#pragma once

#include <span>

namespace lokal::model {

// qkv: n rows of q|k|v (3 * n_embd floats each), the sequences' rows one after another with the
// given lengths; out: n rows of n_embd floats. Per head: softmax(q.K^T / sqrt(head_dim)) . V, the
// same arithmetic in the same order as kernels::attend_all_rows, so bit for bit its results.
void attend_within_sequences(const float* qkv, int n_embd, int head_dim,
                             std::span<const int> lengths, int n_threads, float* out);

}  // namespace lokal::model
