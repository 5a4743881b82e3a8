// How many layers of a model a GPU holds: its free memory against each layer's weights (as the
// device stores them) and KV cache, with the output matrix and working buffers set aside.
// Weights another context of the model put on the device already take no more memory.
#pragma once

#include <cstdint>

#include "kernels/cpu/kv_cache.h"
#include "model/gpu_residency.h"
#include "model/model.h"

namespace lokal::model {

struct OffloadPlan {
    int gpu_layers = 0;
    uint64_t layer_bytes = 0;   // weights still to upload + KV cache of one layer (the largest)
    uint64_t output_bytes = 0;  // the output matrix and norm still to upload (with the last layer)
};

// kv_rows: positions of the KV pool (0: n_ctx). free_bytes: what the device has left, with
// `resident`'s weights already taken from it.
OffloadPlan plan_offload(const Model& model, int n_ctx, int kv_rows, kernels::KvType kv_type,
                         uint64_t free_bytes, const GpuResidency& resident = {});

// plan_offload on compute_device()'s free memory now, with the model's weights already there.
int gpu_layers_that_fit(const Model& model, int n_ctx, int kv_rows, kernels::KvType kv_type);

}  // namespace lokal::model
