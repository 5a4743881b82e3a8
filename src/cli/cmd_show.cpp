#include <algorithm>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "base/error.h"
#include "chat/capabilities.h"
#include "cli/options.h"
#include "gguf/file_summary.h"
#include "model/model.h"
#include "store/create.h"
#include "store/model_defaults.h"
#include "store/reference.h"
#include "store/resolve.h"
#include "store/store.h"
#include "tensor/dtype.h"

namespace lokal::cli {
namespace {

std::string human_bytes(double n) {
    char buf[32];
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (n >= 1024 && u < 4) {
        n /= 1024;
        ++u;
    }
    std::snprintf(buf, sizeof buf, u ? "%.2f %s" : "%.0f %s", n, units[u]);
    return buf;
}

// "q4_K 113 tensors 12.7 MiB, f32 109 tensors 0.2 MiB": tensors and bytes of each type, most
// bytes first.
std::string quantization_mix(const gguf::File& f) {
    std::map<DType, std::pair<int, uint64_t>> by_type;
    for (const auto& t : f.tensors()) {
        ++by_type[t.type].first;
        by_type[t.type].second += t.n_bytes;
    }
    std::vector<std::pair<DType, std::pair<int, uint64_t>>> order(by_type.begin(), by_type.end());
    std::stable_sort(order.begin(), order.end(),
                     [](const auto& a, const auto& b) { return a.second.second > b.second.second; });
    std::string out;
    for (const auto& [type, share] : order) {
        if (!out.empty()) out += ", ";
        out += std::string(dtype_name(type)) + " " + std::to_string(share.first) + " tensors " +
               human_bytes((double)share.second);
    }
    return out;
}

// A stored model's layer of one kind (template, system, params, license) as text; nullopt when
// the name is not in the store or has no such layer.
std::optional<std::string> stored_layer(const std::string& name, const char* media_type) {
    if (!store::is_valid_ref(name)) return std::nullopt;
    store::Store s = store::Store::open_default();
    const auto manifest = s.read_manifest(store::parse_ref(name));
    const store::Layer* l = manifest ? manifest->find(media_type) : nullptr;
    if (!l) return std::nullopt;
    std::ifstream in(s.blob_path(l->digest), std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// The stored PARAMETERs as `ollama show --parameters` prints them: a line per value.
std::string parameter_lines(const std::string& params_json) {
    const nlohmann::json p = nlohmann::json::parse(params_json, nullptr, false);
    if (!p.is_object()) return "";
    std::string out;
    char buf[64];
    for (const auto& [key, value] : p.items()) {
        for (const auto& v : value.is_array() ? value : nlohmann::json::array({value})) {
            std::snprintf(buf, sizeof buf, "%-30s ", key.c_str());
            out += buf + v.dump() + "\n";
        }
    }
    return out;
}

// The stored template, system prompt, parameters and license of a model in the store.
void show_stored_layers(const std::string& name) {
    auto read_layer = [&](const char* media_type) { return stored_layer(name, media_type); };
    const std::pair<const char*, const char*> sections[] = {{"Template", store::media::kTemplate},
                                                            {"System", store::media::kSystem},
                                                            {"Parameters", store::media::kParams},
                                                            {"License", store::media::kLicense}};
    for (const auto& [title, media_type] : sections) {
        if (auto text = read_layer(media_type)) {
            std::printf("\n%s\n", title);
            std::istringstream lines(*text);
            std::string line;
            int shown = 0;
            while (std::getline(lines, line) && shown++ < 20) std::printf("  %s\n", line.c_str());
        }
    }
}

// Arrays longer than this print as [...], as `ollama show -v` prints them (vocabularies, merges).
constexpr size_t kArrayShown = 16;

// A string or number as JSON writes it; bytes that are not UTF-8 become U+FFFD.
template <typename T>
std::string json_text(const T& x) {
    return nlohmann::json(x).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// The shortest text that reads back as the same float32 (1e-05, not 9.999999747378752e-06).
std::string float32_text(double x) {
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, (float)x);
    return std::string(buf, r.ptr);
}

std::string metadata_text(const gguf::Value& v) {
    using gguf::ValueType;
    if (v.type == ValueType::STRING) return json_text(v.str);
    if (v.type == ValueType::BOOL) return v.i ? "true" : "false";
    if (v.is_integer()) {
        return v.type == ValueType::UINT64 ? std::to_string((uint64_t)v.i) : std::to_string(v.i);
    }
    if (v.type == ValueType::FLOAT32) return float32_text(v.f);
    if (v.is_float()) return json_text(v.f);
    if (v.array_size() > kArrayShown) return "[...]";
    std::string out = "[";
    for (size_t k = 0; k < v.array_size(); ++k) {
        if (k) out += " ";
        if (!v.strings.empty()) {
            out += json_text(v.strings[k]);
        } else if (!v.ints.empty()) {
            out += std::to_string(v.ints[k]);
        } else if (!v.floats.empty()) {
            out += v.elem_type == ValueType::FLOAT32 ? float32_text(v.floats[k])
                                                     : json_text(v.floats[k]);
        } else {
            out += metadata_text(v.arrays[k]);
        }
    }
    return out + "]";
}

// -v: every metadata key with its value, then every tensor's type and shape.
void show_metadata_and_tensors(const gguf::File& f) {
    size_t width = 0;
    for (const auto& [key, value] : f.metadata()) width = std::max(width, key.size());
    std::printf("\nMetadata\n");
    for (const auto& [key, value] : f.metadata()) {
        std::printf("  %-*s %s\n", (int)width, key.c_str(), metadata_text(value).c_str());
    }
    width = 0;
    for (const auto& t : f.tensors()) width = std::max(width, t.name.size());
    std::printf("\nTensors\n");
    for (const auto& t : f.tensors()) {
        std::printf("  %-*s %-6s %s\n", (int)width, t.name.c_str(),
                    std::string(dtype_name(t.type)).c_str(), t.shape_string().c_str());
    }
}

// --system, --license, --parameters: one stored layer as text (the license from the GGUF when
// the store has none).
int show_one_layer(const ShowOptions& o) {
    std::optional<std::string> text;
    if (o.system) text = stored_layer(o.model, store::media::kSystem);
    if (o.parameters) {
        if (auto p = stored_layer(o.model, store::media::kParams)) text = parameter_lines(*p);
    }
    if (o.license) {
        text = stored_layer(o.model, store::media::kLicense);
        if (!text) {
            text = gguf::File::open(store::resolve_model(o.model))->get_string("general.license");
        }
    }
    if (!text || text->empty()) {
        throw Error("'" + o.model + "' has no " +
                    (o.system       ? "system prompt"
                     : o.parameters ? "parameters"
                                    : "license"));
    }
    std::fwrite(text->data(), 1, text->size(), stdout);
    if (!text->ends_with('\n')) std::fputc('\n', stdout);
    return 0;
}

}  // namespace

int show_command(const ShowOptions& o) {
    const bool stored = !std::filesystem::is_regular_file(o.model);
    if (o.system || o.parameters || o.license) return show_one_layer(o);
    if (o.modelfile) {
        if (!stored) throw Error("--modelfile needs a stored model name, not a file");
        const std::string text =
            store::modelfile_for(store::Store::open_default(), store::parse_ref(o.model));
        std::fwrite(text.data(), 1, text.size(), stdout);
        return 0;
    }
    if (o.chat_template) {
        // The stored TEMPLATE (what run and serve use) when the model has one, else the GGUF's
        // own; the header is enough, no weights are loaded.
        const std::optional<std::string> own = store::stored_model_defaults(o.model).template_text;
        const std::optional<std::string> t = own && !own->empty()
                                                 ? own
                                                 : gguf::File::open(store::resolve_model(o.model))
                                                       ->get_string("tokenizer.chat_template");
        if (!t) throw Error("'" + o.model + "' has no chat template");
        std::fwrite(t->data(), 1, t->size(), stdout);
        if (!t->ends_with('\n')) std::fputc('\n', stdout);
        return 0;
    }
    auto model = model::Model::load(store::resolve_model(o.model));
    const gguf::File& f = model->file();
    const model::ModelConfig& c = model->config();
    const tokenizer::Tokenizer& tok = model->tokenizer();
    uint64_t params = 0;
    for (const auto& t : f.tensors()) params += t.n_elements;
    auto row = [](const char* k, const std::string& v) {
        std::printf("  %-22s %s\n", k, v.c_str());
    };
    std::printf("Model\n");
    row("name", c.name.empty() ? "(unnamed)" : c.name);
    row("architecture", c.arch);
    row("parameters", gguf::human_count((double)params));
    row("quantization", gguf::quantization_name(f));
    row("quantization mix", quantization_mix(f));
    row("context length", std::to_string(c.n_ctx_train));
    row("embedding length", std::to_string(c.n_embd));
    row("layers", std::to_string(c.n_layer));
    row("attention heads", std::to_string(c.n_head) + " (kv " + std::to_string(c.n_head_kv) +
                               ", head size " + std::to_string(c.head_dim) + ")");
    row("feed-forward length", std::to_string(c.n_ff));
    row("rope", "base " + std::to_string((int64_t)c.rope.freq_base) + ", dims " +
                    std::to_string(c.rope.n_rot));
    row("vocabulary", std::string(tok.model()) + ", " + std::to_string(tok.n_vocab()) + " tokens" +
                          (tok.pre().empty() ? "" : ", pre " + std::string(tok.pre())));
    row("chat template", f.has("tokenizer.chat_template") ? "yes" : "no");
    std::string caps;
    for (const std::string& cap : chat::model_capabilities(f)) caps += (caps.empty() ? "" : ", ") + cap;
    row("capabilities", caps);
    row("license", f.get_string("general.license").value_or("(none stated)"));
    row("GGUF version", std::to_string(f.version()));
    row("file size", human_bytes((double)f.size()));
    if (stored) show_stored_layers(o.model);
    if (o.verbose) show_metadata_and_tensors(f);
    return 0;
}

}  // namespace lokal::cli
