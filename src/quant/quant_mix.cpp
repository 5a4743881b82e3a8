#include "quant/quant_mix.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace lokal::quant {
namespace {

using enum DType;

// ftype ids are llama.cpp's LLAMA_FTYPE_* numbers, as general.file_type stores them.
const std::vector<FileType> kFileTypes = {
    {1, "F16", F16},        {32, "BF16", BF16},     {7, "Q8_0", Q8_0},    {2, "Q4_0", Q4_0},
    {3, "Q4_1", Q4_1},      {8, "Q5_0", Q5_0},      {9, "Q5_1", Q5_1},    {10, "Q2_K", Q2_K},
    {11, "Q3_K_S", Q3_K},   {12, "Q3_K_M", Q3_K},   {13, "Q3_K_L", Q3_K}, {14, "Q4_K_S", Q4_K},
    {15, "Q4_K_M", Q4_K},   {16, "Q5_K_S", Q5_K},   {17, "Q5_K_M", Q5_K}, {18, "Q6_K", Q6_K},
    {25, "IQ4_NL", IQ4_NL}, {30, "IQ4_XS", IQ4_XS},
};

enum class Role {
    Output,
    TokenEmbd,
    AttnV,
    AttnK,
    AttnQ,
    AttnOutput,
    FfnUp,
    FfnGate,
    FfnDown,
    Other
};

bool contains(std::string_view s, std::string_view part) {
    return s.find(part) != std::string_view::npos;
}

// First matching substring wins; attn_qkv and attn_kv_b count as attn_v (the value projection
// is in them and is what is sensitive to quantization).
Role role_of(std::string_view name) {
    if (name == "output.weight") return Role::Output;
    if (name == "token_embd.weight" || name == "per_layer_token_embd.weight")
        return Role::TokenEmbd;
    struct Rule {
        std::string_view part;
        Role role;
    };
    static constexpr Rule kRules[] = {
        {"attn_qkv.weight", Role::AttnV}, {"attn_kv_b.weight", Role::AttnV},
        {"attn_v.weight", Role::AttnV},   {"attn_k.weight", Role::AttnK},
        {"attn_q.weight", Role::AttnQ},   {"attn_output.weight", Role::AttnOutput},
        {"ffn_up", Role::FfnUp},          {"ffn_gate", Role::FfnGate},
        {"ffn_down", Role::FfnDown},
    };
    for (const Rule& r : kRules) {
        if (contains(name, r.part)) return r.role;
    }
    return Role::Other;
}

// Tensors that are matrices named *weight but stay as they are: small or precision-critical.
constexpr std::string_view kNeverQuantized[] = {"_norm.weight",
                                                "ffn_gate_inp.weight",
                                                "ffn_gate_tid2eid.weight",
                                                "altup",
                                                "laurel",
                                                "per_layer_model_proj",
                                                "ssm_conv1d",
                                                "shortconv.conv.weight",
                                                "indexer.k_proj.weight",
                                                "indexer.q_proj.weight",
                                                "time_mix_first.weight",
                                                "time_mix_w0.weight",
                                                "time_mix_w1.weight",
                                                "time_mix_w2.weight",
                                                "time_mix_v0.weight",
                                                "time_mix_v1.weight",
                                                "time_mix_v2.weight",
                                                "time_mix_a0.weight",
                                                "time_mix_a1.weight",
                                                "time_mix_a2.weight",
                                                "time_mix_g1.weight",
                                                "time_mix_g2.weight",
                                                "time_mix_decay_w1.weight",
                                                "time_mix_decay_w2.weight",
                                                "time_mix_lerp_fused.weight",
                                                "attn_rel_b.weight",
                                                ".position_embd",
                                                "sam.pos_embd",
                                                "sam.neck.",
                                                "sam.net_",
                                                ".rel_pos",
                                                ".patch_embd",
                                                ".patch_merger",
                                                "a.rvq.codebook",
                                                "mm.a.code_embd"};

int significant_dims(const std::vector<uint64_t>& dims) {
    int n = 1;
    for (int i = (int)dims.size() - 1; i > 0; --i) {
        if (dims[i] > 1) {
            n = i + 1;
            break;
        }
    }
    return n;
}

int layer_of(std::string_view name) {
    int layer = -1;
    std::sscanf(std::string(name).c_str(), "blk.%d.", &layer);
    return layer;
}

bool is_quantized(DType t) {
    return dtype_info(t).block_elems > 1;
}

// Layers that get more bits in the _M mixes: the first and last eighth, and every third between.
bool more_bits(int i, int n) {
    return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
}

// The mix rules proper (llama-quantize's per-role choices for the file types above).
class Mixer {
  public:
    Mixer(const FileType& ft, const ModelShape& shape, const std::vector<TensorDesc>& tensors,
          const MixOptions& options)
        : ft_(ft), shape_(shape), options_(options) {
        for (const TensorDesc& t : tensors) {
            const Role r = role_of(t.name);
            if (r == Role::AttnV) ++n_attn_v_;
            if (r == Role::Output) tied_embeddings_ = false;
        }
        // A 70B llama shares each attn_v between 8 query heads: it is small, so it gets more bits.
        is_70b_ = shape.n_layer == 80 && shape.arch == "llama";
        falcon_ = shape.arch == "falcon";
    }

    DType choose(const TensorDesc& t, DType type) {
        const Role role = role_of(t.name);
        const std::string_view f = ft_.name;
        if (role == Role::Output || (tied_embeddings_ && role == Role::TokenEmbd)) {
            if (falcon_ || t.dims[0] % dtype_info(type).block_elems != 0) return Q8_0;
            return type == Q8_0 ? Q8_0 : Q6_K;
        }
        switch (role) {
            case Role::AttnV:
                return attn_v(type, f);
            case Role::AttnK:
                return shape_.n_expert == 8 ? Q8_0 : type;
            case Role::FfnDown:
                return ffn_down(t, type, f);
            case Role::AttnOutput:
                return attn_output(type, f);
            default:
                return type;
        }
    }

  private:
    DType attn_v(DType type, std::string_view f) {
        const int i = i_attn_v_++;
        const int gqa = shape_.gqa();
        if (f == "Q2_K") {
            type = gqa >= 4 ? Q4_K : Q3_K;
        } else if (f == "Q3_K_M") {
            type = i < 2 ? Q5_K : Q4_K;
        } else if (f == "Q3_K_L" || ((f == "IQ4_NL" || f == "IQ4_XS") && gqa >= 4) ||
                   (f == "Q4_K_S" && i < 4)) {
            type = Q5_K;
        } else if ((f == "Q4_K_M" || f == "Q5_K_M") && more_bits(i, n_attn_v_)) {
            type = Q6_K;
        }
        if (is_70b_ && (type == Q3_K || type == Q4_K)) type = Q5_K;
        if (shape_.n_expert == 8) type = Q8_0;
        return type;
    }

    DType ffn_down(const TensorDesc& t, DType type, std::string_view f) {
        int i = i_ffn_down_++;
        const int n = shape_.n_layer;
        // Mixture-of-experts files interleave expert tensors: take the layer from the name.
        if (shape_.n_expert > 1) i = layer_of(t.name);
        if (f == "Q2_K") return Q3_K;
        if (f == "Q3_K_M") {
            if (i < n / 16) return Q5_K;
            return !falcon_ || more_bits(i, n) ? Q4_K : Q3_K;
        }
        if (f == "Q3_K_L") return falcon_ ? Q4_K : Q5_K;
        if (f == "Q4_K_M") {
            if (falcon_) return i < n / 16 ? Q6_K : more_bits(i, n) ? Q5_K : Q4_K;
            return more_bits(i, n) ? Q6_K : type;
        }
        if (i < n / 8 && (f == "IQ4_NL" || f == "IQ4_XS") && !options_.has_imatrix) return Q5_K;
        if (f == "Q5_K_M" && more_bits(i, n)) return Q6_K;
        if (f == "Q4_K_S" && !falcon_ && i < n / 8) return Q5_K;
        if ((f == "Q4_0" || f == "Q5_0") && options_.has_imatrix && i < n / 8) {
            return f == "Q4_0" ? Q4_1 : Q5_1;
        }
        return type;
    }

    DType attn_output(DType type, std::string_view f) const {
        if (falcon_) return f == "Q3_K_L" ? Q4_K : type;
        if (shape_.n_expert == 8) {
            static constexpr std::string_view kBumped[] = {"Q2_K",   "Q3_K_S", "Q3_K_M", "IQ4_NL",
                                                           "Q4_K_S", "Q4_K_M", "IQ4_XS"};
            return std::find(std::begin(kBumped), std::end(kBumped), f) != std::end(kBumped) ? Q5_K
                                                                                             : type;
        }
        if (f == "Q2_K") return Q3_K;
        if (f == "Q3_K_M") return Q4_K;
        if (f == "Q3_K_L") return Q5_K;
        return type;
    }

    const FileType& ft_;
    const ModelShape& shape_;
    const MixOptions& options_;
    int n_attn_v_ = 0;
    int i_attn_v_ = 0;
    int i_ffn_down_ = 0;
    bool tied_embeddings_ = true;  // until an output.weight is seen
    bool is_70b_ = false;
    bool falcon_ = false;
};

// A type whose blocks divide the row, for a tensor whose rows do not fit the chosen one.
struct Fallback {
    DType from, to;
};
constexpr Fallback kFallbacks[] = {
    {IQ4_XS, IQ4_NL}, {Q2_K, Q4_0}, {Q3_K, Q4_0}, {Q4_K, Q5_0}, {Q5_K, Q5_1}, {Q6_K, Q8_0},
};

DType fall_back(DType type, uint64_t cols, bool* fell_back) {
    if (cols % dtype_info(type).block_elems == 0) return type;
    *fell_back = true;
    for (const Fallback& f : kFallbacks) {
        if (f.from == type) {
            type = f.to;
            break;
        }
    }
    return cols % dtype_info(type).block_elems == 0 ? type : F16;
}

}  // namespace

const std::vector<FileType>& file_types() {
    return kFileTypes;
}

std::optional<FileType> find_file_type(std::string_view name) {
    for (const FileType& ft : kFileTypes) {
        if (ft.name.size() != name.size()) continue;
        bool same = true;
        for (size_t i = 0; i < name.size() && same; ++i) {
            same = std::toupper((unsigned char)name[i]) == (unsigned char)ft.name[i];
        }
        if (same) return ft;
    }
    return std::nullopt;
}

bool tensor_is_quantizable(const TensorDesc& t, bool leave_output_tensor) {
    if (significant_dims(t.dims) < 2) return false;
    const std::string_view name = t.name;
    if (name.size() < 6 || name.substr(name.size() - 6) != "weight") return false;
    if (leave_output_tensor && name == "output.weight") return false;
    if (name == "position_embd.weight" || name == "token_types.weight") return false;
    return std::none_of(std::begin(kNeverQuantized), std::end(kNeverQuantized),
                        [&](std::string_view part) { return contains(name, part); });
}

std::vector<TensorPlan> plan_tensor_types(const FileType& ft, const ModelShape& shape,
                                          const std::vector<TensorDesc>& tensors,
                                          const MixOptions& options) {
    std::vector<TensorPlan> plan(tensors.size());
    for (size_t i = 0; i < tensors.size(); ++i) plan[i].index = i;
    std::stable_sort(plan.begin(), plan.end(), [&](const TensorPlan& a, const TensorPlan& b) {
        const std::string& na = tensors[a.index].name;
        const std::string& nb = tensors[b.index].name;
        const int la = layer_of(na), lb = layer_of(nb);
        return la != lb ? la < lb : na < nb;
    });
    std::vector<TensorDesc> ordered;
    ordered.reserve(tensors.size());
    for (const TensorPlan& p : plan) ordered.push_back(tensors[p.index]);

    Mixer mixer(ft, shape, ordered, options);
    for (size_t k = 0; k < plan.size(); ++k) {
        const TensorDesc& t = ordered[k];
        TensorPlan& p = plan[k];
        p.type = t.type;
        if (!tensor_is_quantizable(t, options.leave_output_tensor)) continue;
        p.type = ft.base;
        if (!is_quantized(ft.base)) continue;
        if (!options.pure) p.type = mixer.choose(t, p.type);
        p.type = fall_back(p.type, t.dims[0], &p.fell_back);
    }
    return plan;
}

}  // namespace lokal::quant
