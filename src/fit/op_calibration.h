// This machine's speed for the non-matrix work of a forward pass: prompt attention, generation
// attention and the row ops (norms, gated activations, rope), timed on the real CPU kernels. Row
// op costs are one thread's (the estimate divides them among the threads where the backend
// splits rows).
#pragma once

namespace lokal::fit {

struct OpSpeed {
    double attn_gflops = 0;  // attend_tiled on a 512-query causal block: 4 x head_dim a pair
    double attn_key_ns = 0;  // attend_group, one query head, one thread: per key read
    double norm_ns = 0;      // rms_norm: per element
    double glu_ns = 0;       // swiglu: per output element
    double geglu_ns = 0;     // geglu: per output element
    double rope_ns = 0;      // rope (table + rotation): per rotated element
};

// Times the kernels at head size head_dim; prompt attention on `threads` threads.
OpSpeed measure_ops(int head_dim, int threads);

}  // namespace lokal::fit
