#include "model/offload.h"

#include <algorithm>

#include "model/compute_device.h"

namespace lokal::model {
namespace {

// What a matrix still takes on the device: its stored rows (a repacked CPU copy is unpacked
// there), nothing when it is there already.
uint64_t matrix_bytes(const MatrixView& m, const GpuResidency& resident) {
    if (m.rows <= 0 || resident.holds(m)) return 0;
    return row_bytes(m.type, (uint64_t)m.cols) * (uint64_t)m.rows;
}

uint64_t vector_bytes(const std::vector<float>& v, const GpuResidency& resident) {
    return resident.holds(v) ? 0 : v.size() * sizeof(float);
}

uint64_t layer_weight_bytes(const LayerWeights& L, const GpuResidency& resident) {
    uint64_t b = 0;
    for (const MatrixView* m : {&L.wq, &L.wk, &L.wv, &L.wqkv, &L.wo, &L.w_gate, &L.w_up, &L.w_down})
        b += matrix_bytes(*m, resident);
    for (const std::vector<float>* v : {&L.attn_norm, &L.bq, &L.bk, &L.bv, &L.q_norm, &L.k_norm,
                                        &L.attn_post_norm, &L.ffn_norm, &L.ffn_post_norm})
        b += vector_bytes(*v, resident);
    return b;
}

}  // namespace

OffloadPlan plan_offload(const Model& model, int n_ctx, int kv_rows, kernels::KvType kv_type,
                         uint64_t free_bytes, const GpuResidency& resident) {
    const ModelConfig& c = model.config();
    const Weights& w = model.weights();
    OffloadPlan plan;
    const uint64_t rows = (uint64_t)(kv_rows > 0 ? kv_rows : n_ctx);
    const uint64_t kv_layer = 2 * rows * kernels::kv_row_bytes(kv_type, c.n_head_kv * c.head_dim);
    for (const LayerWeights& L : w.layers) {
        plan.layer_bytes = std::max(plan.layer_bytes, layer_weight_bytes(L, resident) + kv_layer);
    }
    plan.output_bytes = matrix_bytes(w.output, resident) + vector_bytes(w.output_norm, resident);
    // Activations, logits and the driver's own needs: a tenth of the memory, at least 256 MiB.
    const uint64_t reserve = std::max<uint64_t>(free_bytes / 10, 256ull << 20);
    if (free_bytes <= reserve || plan.layer_bytes == 0) return plan;
    const uint64_t budget = free_bytes - reserve;
    const uint64_t all = plan.layer_bytes * (uint64_t)c.n_layer + plan.output_bytes;
    if (all <= budget) {
        plan.gpu_layers = c.n_layer;
    } else {
        plan.gpu_layers = (int)std::min<uint64_t>(budget / plan.layer_bytes, c.n_layer - 1);
    }
    return plan;
}

int gpu_layers_that_fit(const Model& model, int n_ctx, int kv_rows, kernels::KvType kv_type) {
    // Held while planning: the copy the new context will share stays.
    const GpuResidency resident = GpuResidency::of(model);
    return plan_offload(model, n_ctx, kv_rows, kv_type, gpu_free_bytes_now(), resident).gpu_layers;
}

}  // namespace lokal::model
