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

RowWork row_work(const gguf::File& f) {
    const model::ModelConfig c = header_config(f);
    RowWork w;
    const double q = (double)c.n_head * c.head_dim, kv = (double)c.n_head_kv * c.head_dim;
    // Layer 0's norms stand for every layer's.
    for (const auto& t : f.tensors()) {
        if (!t.name.starts_with("blk.0.") || !t.name.ends_with("norm.weight")) continue;
        if (t.name.find("attn_q_norm") != std::string::npos) {
            w.heads_norm += q;
        } else if (t.name.find("attn_k_norm") != std::string::npos) {
            w.heads_norm += kv;
        } else {
            w.norm += (double)c.n_embd;
        }
    }
    w.glu = c.n_ff;
    w.rope = q + kv;
    return w;
}

SpeedEstimate estimate_speed(const gguf::File& f, const std::map<DType, TypeSpeed>& speeds,
                             const OpSpeed& ops, int threads, int n_prompt, int n_gen) {
    const model::ModelConfig c = header_config(f);
    const bool tied = f.find_tensor("output.weight") == nullptr;
    const double nth = std::max(1, threads);

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
    const double ops_count = (double)c.n_layer * kOpsPerLayer + 2;
    // The fixed cost of each op (a tiny product's time), per token in generation and once per
    // batch in the prompt.
    tg += ops_count * call;
    pp += ops_count * call;

    // Row ops: whole-row norms run on one thread, the others split the prompt's rows; a
    // generated token is one row, on one thread.
    const RowWork w = row_work(f);
    const double glu_ns = c.arch.starts_with("gemma") ? ops.geglu_ns : ops.glu_ns;
    const double split_ns = w.heads_norm * ops.norm_ns + w.glu * glu_ns + w.rope * ops.rope_ns;
    const double row_ns = w.norm * ops.norm_ns;
    pp += c.n_layer * (double)n_prompt * (row_ns + split_ns / nth) * 1e-9;
    tg += c.n_layer * (row_ns + split_ns) * 1e-9;

    // Prompt attention, causal, tiled over the threads: 4 x head_dim flops a query-key pair.
    const double pairs = (double)n_prompt * (n_prompt + 1) / 2;
    const double per_pair = 4.0 * c.n_head * c.head_dim * c.n_layer;
    if (ops.attn_gflops > 0) {
        pp += per_pair * pairs / (ops.attn_gflops * 1e9);
    } else {  // heads too large for the tiled kernel: row by row, split over threads
        pp += (double)c.n_layer * c.n_head * pairs * ops.attn_key_ns * 1e-9 / nth;
    }
    // Generation attention: token i reads i + 1 keys a head, on one thread until the work is
    // large enough to split (the backend's threshold).
    double gen_attn = 0;
    for (int i = 0; i < n_gen; ++i) {
        const double keys = (double)c.n_head * (i + 1);
        const bool split = keys * c.head_dim >= 65536;
        gen_attn += keys * ops.attn_key_ns * 1e-9 / (split ? nth : 1.0);
    }
    tg += c.n_layer * gen_attn / std::max(1, n_gen);

    SpeedEstimate e;
    e.pp_tokens_per_s = pp > 0 ? n_prompt / pp : 0;
    e.tg_tokens_per_s = tg > 0 ? 1.0 / tg : 0;
    return e;
}

}  // namespace lokal::fit
