// How many layers of a model a GPU holds: its free memory against each layer's weights (as the
// device stores them) and KV cache, with the output matrix and working buffers set aside.
#pragma once

#include <cstdint>

#include "kernels/cpu/kv_cache.h"
#include "model/model.h"

namespace lokal::model {

struct OffloadPlan {
    int gpu_layers = 0;
    uint64_t layer_bytes = 0;   // weights + KV cache of one layer (the largest)
    uint64_t output_bytes = 0;  // the output matrix and norm, on the GPU with the last layer
};

// kv_rows: positions of the KV pool (0: n_ctx).
OffloadPlan plan_offload(const Model& model, int n_ctx, int kv_rows, kernels::KvType kv_type,
                         uint64_t free_bytes);

// plan_offload on compute_device()'s free memory.
int gpu_layers_that_fit(const Model& model, int n_ctx, int kv_rows, kernels::KvType kv_type);

}  // namespace lokal::model
