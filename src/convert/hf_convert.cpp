#include "convert/hf_convert.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/fp16.h"
#include "convert/hf_arch.h"
#include "convert/hf_vocab.h"
#include "safetensors/model_dir.h"

namespace fs = std::filesystem;

namespace lokal::convert {

namespace {

struct OutType {
    std::string_view name;
    DType type;
    uint32_t file_type;  // general.file_type (llama_ftype)
};

constexpr std::array<OutType, 4> kOutTypes = {{
    {"f32", DType::F32, 0},
    {"f16", DType::F16, 1},
    {"bf16", DType::BF16, 32},
    {"q8_0", DType::Q8_0, 7},
}};

// Tensors kept in F32 whatever the output type: vectors, norms, and the small embedding tables
// llama.cpp keeps exact.
bool stays_f32(const std::string& name, size_t n_dims) {
    return n_dims <= 1 || name.ends_with("_norm.weight") || !name.ends_with(".weight") ||
           name == "position_embd.weight" || name == "token_types.weight";
}

// Which GGUF dimension must equal the model width, by tensor kind (-1: not checked).
int width_dim(const std::string& gguf_name) {
    static constexpr std::array<std::string_view, 9> kCols = {
        "attn_q.weight",   "attn_k.weight", "attn_v.weight",        "attn_qkv.weight",
        "ffn_up.weight",   "ffn_gate.weight", "token_embd.weight", "position_embd.weight",
        "token_types.weight"};
    static constexpr std::array<std::string_view, 2> kRows = {"attn_output.weight",
                                                              "ffn_down.weight"};
    // "blk.N.attn_q.weight" -> "attn_q.weight"
    const size_t dot = gguf_name.starts_with("blk.") ? gguf_name.find('.', 4) : std::string::npos;
    const std::string kind = dot == std::string::npos ? gguf_name : gguf_name.substr(dot + 1);
    for (auto k : kCols) {
        if (kind == k) return 0;
    }
    for (auto k : kRows) {
        if (kind == k) return 1;
    }
    return -1;
}

DType storage_type(const std::string& name, const std::vector<uint64_t>& dims, DType out) {
    if (stays_f32(name, dims.size())) return DType::F32;
    if (out == DType::Q8_0 && dims[0] % 32 != 0) return DType::F16;
    return out;
}

uint32_t file_type_of(DType t) {
    for (const OutType& o : kOutTypes) {
        if (o.type == t) return o.file_type;
    }
    throw Error("unsupported output type " + std::string(dtype_name(t)));
}

// "nreimers/MiniLM-L6-H384-uncased" -> organization "Nreimers", name "MiniLM L6 H384 Uncased":
// words split at '-' and '_', each with its first letter raised (llama.cpp's naming).
std::string title_words(const std::string& s) {
    std::string out;
    bool start = true;
    for (char c : s) {
        if (c == '-' || c == '_') {
            out.push_back(' ');
            start = true;
        } else {
            out.push_back(start ? (char)std::toupper((unsigned char)c) : c);
            start = false;
        }
    }
    return out;
}

// 22.7M -> "23M", 1.24B -> "1.2B": two significant digits at least.
std::string size_label(uint64_t n) {
    struct Scale {
        double div;
        const char* suffix;
    };
    constexpr std::array<Scale, 4> kScales = {{{1e12, "T"}, {1e9, "B"}, {1e6, "M"}, {1e3, "K"}}};
    for (const Scale& sc : kScales) {
        if ((double)n < sc.div && sc.div > 1e3) continue;
        const double v = (double)n / sc.div;
        const int digits = (int)std::to_string((long long)std::llround(v)).size();
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.*f%s", std::max(0, 2 - digits), v, sc.suffix);
        return buf;
    }
    return std::to_string(n);
}

}  // namespace

DType parse_outtype(std::string_view s) {
    std::string lower(s);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return (char)std::tolower(c); });
    for (const OutType& o : kOutTypes) {
        if (o.name == lower) return o.type;
    }
    throw Error("unknown output type '" + std::string(s) + "' (f32, f16, bf16 or q8_0)");
}

bool is_hf_model_dir(const fs::path& dir) {
    std::error_code ec;
    return fs::is_directory(dir, ec) && fs::is_regular_file(dir / "config.json", ec);
}

namespace {

gguf::Writer build(const fs::path& dir, const ConvertOptions& o,
                   const std::function<void(const std::string&)>& status) {
    const HfFiles hf = HfFiles::read(dir);
    const auto mapper = mapper_for(hf);
    const auto weights = safetensors::ModelWeights::open(dir);
    const std::string& arch = mapper->arch();
    const uint32_t file_type = file_type_of(o.outtype);

    gguf::Writer w;
    w.set_string("general.architecture", arch);
    w.set_string("general.type", "model");
    std::string name = o.name;
    std::string org;
    const std::string origin = hf.config.value("_name_or_path", "");
    if (name.empty() && !origin.empty() && origin.find('/') == origin.rfind('/') &&
        origin.front() != '/' && origin.front() != '.') {
        const size_t slash = origin.find('/');
        name = title_words(slash == std::string::npos ? origin : origin.substr(slash + 1));
        if (slash != std::string::npos) org = title_words(origin.substr(0, slash));
    }
    if (name.empty()) name = fs::absolute(dir).lexically_normal().filename().string();
    if (name.empty()) name = fs::absolute(dir).lexically_normal().parent_path().filename().string();
    w.set_string("general.name", name);
    if (!org.empty()) w.set_string("general.organization", org);
    w.set_string("general.size_label", "");  // the count is known once the tensors are in
    mapper->write_metadata(hf, w);
    w.set_u32("general.file_type", file_type);
    w.set_u32("general.quantization_version", 2);

    const int64_t n_embd = hf.config.value("hidden_size", (int64_t)0);
    const int n_head = hf.config.value("num_attention_heads", 0);
    const int n_head_kv = hf.config.value("num_key_value_heads", n_head);
    int64_t n_vocab = 0;
    uint64_t n_params = 0;
    for (const auto& [hf_name, t] : weights.tensors()) {
        const auto m = mapper->map(hf_name);
        if (!m) {
            std::string msg = "tensor '" + hf_name + "' is not part of a ";
            msg += arch;
            msg += " model we know";
            throw Error(msg, ErrorKind::Unsupported);
        }
        if (m->gguf.empty()) continue;
        std::vector<uint64_t> dims(t->shape.rbegin(), t->shape.rend());
        if (dims.empty() || dims.size() > 4) {
            throw Error("tensor '" + hf_name + "' has " + std::to_string(dims.size()) +
                        " dimensions");
        }
        if (std::find(dims.begin(), dims.end(), 0) != dims.end()) {
            throw Error("tensor '" + hf_name + "' is empty");
        }
        const int wd = width_dim(m->gguf);
        if (wd >= 0 && ((size_t)wd >= dims.size() || (int64_t)dims[wd] != n_embd)) {
            throw Error("tensor '" + hf_name + "' has shape " +
                        std::to_string(dims.size() > 1 ? dims[1] : 1) + "x" +
                        std::to_string(dims[0]) + ", which does not fit hidden_size " +
                        std::to_string(n_embd));
        }
        if (m->gguf == "token_embd.weight") n_vocab = (int64_t)dims.back();
        n_params += t->n_elements;
        std::vector<float> v = safetensors::to_float(*t);
        switch (m->transform) {
            case Transform::PermuteQ:
                v = permute_rotary_rows(v, n_head, (int64_t)dims[0]);
                break;
            case Transform::PermuteK:
                v = permute_rotary_rows(v, n_head_kv, (int64_t)dims[0]);
                break;
            case Transform::AddOne:
                for (float& x : v) x += 1.0f;
                break;
            case Transform::None:
                break;
        }
        const DType type = storage_type(m->gguf, dims, o.outtype);
        if (status) status("converting " + hf_name + " -> " + m->gguf);
        w.add_tensor_f32(m->gguf, type, std::move(dims), v);
    }
    if (n_vocab == 0) throw Error("the weights have no token embeddings");
    w.set_string("general.size_label", size_label(n_params));
    mapper->write_extra_tensors(hf, w);
    write_vocab(hf, n_vocab, w);
    mapper->adjust_vocab(w);
    return w;
}

}  // namespace

gguf::Writer build_gguf(const fs::path& dir, const ConvertOptions& o,
                        const std::function<void(const std::string&)>& status) {
    try {
        return build(dir, o, status);
    } catch (const nlohmann::json::exception& e) {
        // A JSON file of the folder holds a value of the wrong kind somewhere.
        throw Error("malformed model folder " + dir.string() + ": " + e.what());
    }
}

void convert_hf_dir(const fs::path& dir, const std::string& out_path, const ConvertOptions& o,
                    const std::function<void(const std::string&)>& status) {
    build_gguf(dir, o, status).write_file(out_path);
}

}  // namespace lokal::convert
