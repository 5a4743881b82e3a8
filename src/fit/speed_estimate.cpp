#include "fit/speed_estimate.h"

#include <algorithm>
#include <set>
#include <string>

#include "fit/memory_estimate.h"

namespace lokal::fit {
namespace {

// Ops of one layer that each cost a thread-pool round trip (norms, projections, rope,
// attention, activation, residual adds).
constexpr int kOpsPerLayer = 14;

// The matrices every token multiplies: all of them but an untied token embedding (rows looked up).
template <typename F>
void for_each_streamed_matrix(const gguf::File& f, F&& fn) {
    const bool tied = f.find_tensor("output.weight") == nullptr;
    for (const auto& t : f.tensors()) {
        if (t.dims.size() < 2) continue;
        if (t.name == "token_embd.weight" && !tied) continue;
        fn(t);
    }
}

bool is_output(const gguf::TensorInfo& t, bool tied) {
    return t.name == (tied ? "token_embd.weight" : "output.weight");
}

}  // namespace

std::vector<DType> matrix_types(const gguf::File& f) {
    std::set<DType> types;
    for_each_streamed_matrix(f, [&](const gguf::TensorInfo& t) { types.insert(t.type); });
    return {types.begin(), types.end()};
}

SpeedEstimate estimate_speed(const gguf::File& f, const std::map<DType, TypeSpeed>& speeds,
                             int n_prompt, int n_gen) {
    const model::ModelConfig c = header_config(f);
    const bool tied = f.find_tensor("output.weight") == nullptr;

    double tg = 0, pp = 0, call = 0;
    for_each_streamed_matrix(f, [&](const gguf::TensorInfo& t) {
        const auto it = speeds.find(t.type);
        if (it == speeds.end()) return;
        const TypeSpeed& s = it->second;
        const double matvec = (double)t.n_bytes / (s.matvec_gbs * 1e9);
        tg += matvec;
        call = std::max(call, s.call_seconds);
        // The prompt's logits are only the last token's: one matvec through the output.
        pp += is_output(t, tied) ? matvec
                                 : 2.0 * (double)t.n_elements * n_prompt / (s.gemm_gflops * 1e9);
    });
    // The fixed cost of each op (a tiny product's time), per token in generation and once per
    // batch in the prompt.
    const double ops = (double)c.n_layer * kOpsPerLayer + 2;
    tg += ops * call;
    pp += ops * call;
    // Attention, causal: each query reads the keys and values before it (q.k and p.v, 2 flops a
    // multiply-add), at the F16 product rate.
    const auto f16 = speeds.find(DType::F16);
    const double attn_rate =
        (f16 != speeds.end() ? f16->second.gemm_gflops
                           : speeds.empty() ? 1.0 : speeds.begin()->second.gemm_gflops) *
        1e9;
    const double per_pair = 4.0 * c.n_head * c.head_dim * c.n_layer;
    pp += per_pair * (double)n_prompt * n_prompt / 2 / attn_rate;
    tg += per_pair * (double)n_gen / 2 / attn_rate;
    SpeedEstimate e;
    e.pp_tokens_per_s = pp > 0 ? n_prompt / pp : 0;
    e.tg_tokens_per_s = tg > 0 ? 1.0 / tg : 0;
    return e;
}

}  // namespace lokal::fit
