#include "server/request_options.h"

#include <algorithm>

#include <cmath>
#include <limits>

#include "server/http_error.h"

namespace lokal::server {
namespace {

using json = nlohmann::ordered_json;

double number(const json& v, const std::string& name, double lo, double hi) {
    if (!v.is_number()) throw HttpError(400, "'" + name + "' must be a number", name);
    const double d = v.get<double>();
    if (!std::isfinite(d) || d < lo || d > hi) {
        throw HttpError(400,
                        "'" + name + "' is out of range (" + std::to_string(lo) + " to " +
                            std::to_string(hi) + ")",
                        name);
    }
    return d;
}

int64_t integer(const json& v, const std::string& name, int64_t lo, int64_t hi) {
    if (!v.is_number_integer() &&
        !(v.is_number_float() && std::floor(v.get<double>()) == v.get<double>())) {
        throw HttpError(400, "'" + name + "' must be an integer", name);
    }
    const double d = v.get<double>();
    if (d < (double)lo || d > (double)hi) {
        throw HttpError(400,
                        "'" + name + "' is out of range (" + std::to_string(lo) + " to " +
                            std::to_string(hi) + ")",
                        name);
    }
    return (int64_t)d;
}

std::vector<std::string> stop_list(const json& v, const std::string& name) {
    if (v.is_null()) return {};
    if (v.is_string()) return {v.get<std::string>()};
    if (!v.is_array())
        throw HttpError(400, "'" + name + "' must be a string or a list of strings", name);
    std::vector<std::string> out;
    for (const auto& s : v) {
        if (!s.is_string()) throw HttpError(400, "'" + name + "' must hold strings", name);
        out.push_back(s.get<std::string>());
    }
    return out;
}

// Applies Ollama-named options from obj (the stored params or a request's `options`).
void apply_ollama(GenerationParams& p, const json& obj, const std::string& prefix) {
    if (!obj.is_object()) throw HttpError(400, "'" + prefix + "' must be an object", prefix);
    sampling::SamplingParams& s = p.sampling;
    for (const auto& [key, v] : obj.items()) {
        const std::string name = prefix.empty() ? key : std::string(prefix).append(".").append(key);
        if (v.is_null()) continue;
        if (key == "temperature") {
            s.temperature = (float)number(v, name, 0, 100);
        } else if (key == "top_k") {
            s.top_k = (int)integer(v, name, -1, 1 << 30);
        } else if (key == "top_p") {
            s.top_p = (float)number(v, name, 0, 1);
        } else if (key == "min_p") {
            s.min_p = (float)number(v, name, 0, 1);
        } else if (key == "typical_p") {
            s.typical_p = (float)number(v, name, 0, 1);
        } else if (key == "repeat_penalty") {
            s.repeat_penalty = (float)number(v, name, 1e-3, 100);
        } else if (key == "repeat_last_n") {
            s.repeat_last_n = (int)integer(v, name, -1, 1 << 30);
        } else if (key == "presence_penalty") {
            s.presence_penalty = (float)number(v, name, -100, 100);
        } else if (key == "frequency_penalty") {
            s.frequency_penalty = (float)number(v, name, -100, 100);
        } else if (key == "seed") {
            const int64_t seed = integer(v, name, std::numeric_limits<int64_t>::min(),
                                         std::numeric_limits<int64_t>::max());
            s.seed = seed < 0 ? sampling::kRandomSeed : (uint64_t)seed;
        } else if (key == "num_predict") {
            const int64_t n = integer(v, name, -2, 1 << 30);
            p.generate.max_tokens = n < 0 ? -1 : (int)n;
        } else if (key == "num_ctx") {
            p.n_ctx = (int)integer(v, name, 1, 1 << 24);
        } else if (key == "num_gpu") {
            p.gpu_layers = (int)integer(v, name, -1, 1 << 20);
        } else if (key == "draft_num_predict") {
            p.draft_max = (int)integer(v, name, 0, 256);
        } else if (key == "stop") {
            p.generate.stop = stop_list(v, name);
        }
        // Other options (num_thread, mirostat, ...) do not apply here and are ignored,
        // as Ollama ignores options a runner does not use.
    }
}

GenerationParams defaults(const json& model_params) {
    GenerationParams p;
    p.sampling.temperature = 0.8f;
    p.sampling.top_k = 40;
    p.sampling.top_p = 0.9f;
    p.sampling.repeat_penalty = 1.1f;
    p.sampling.repeat_last_n = 64;
    if (model_params.is_object()) {
        try {
            apply_ollama(p, model_params, "");
        } catch (const HttpError&) {
            // A stored parameter that cannot be used is skipped; the request still works.
        }
    }
    return p;
}

}  // namespace

const json* field(const json& obj, const char* name) {
    auto it = obj.find(name);
    if (it == obj.end() || it->is_null()) return nullptr;
    return &*it;
}

std::string required_string(const json& obj, const char* name) {
    const json* v = field(obj, name);
    if (!v) throw HttpError(400, std::string("'") + name + "' is required", name);
    if (!v->is_string()) throw HttpError(400, std::string("'") + name + "' must be a string", name);
    return v->get<std::string>();
}

bool optional_bool(const json& obj, const char* name, bool fallback) {
    const json* v = field(obj, name);
    if (!v) return fallback;
    if (!v->is_boolean())
        throw HttpError(400, std::string("'") + name + "' must be a boolean", name);
    return v->get<bool>();
}

GenerationParams ollama_params(const json& model_params, const json* options) {
    GenerationParams p = defaults(model_params);
    if (options) apply_ollama(p, *options, "options");
    return p;
}

GenerationParams openai_params(const json& model_params, const json& body) {
    GenerationParams p = defaults(model_params);
    sampling::SamplingParams& s = p.sampling;
    // OpenAI's API has no repetition penalty; its clients expect none.
    s.repeat_penalty = 1.0f;
    s.temperature = 1.0f;
    s.top_p = 1.0f;
    s.top_k = 0;
    if (const json* v = field(body, "temperature"))
        s.temperature = (float)number(*v, "temperature", 0, 2);
    if (const json* v = field(body, "top_p")) s.top_p = (float)number(*v, "top_p", 0, 1);
    if (const json* v = field(body, "presence_penalty")) {
        s.presence_penalty = (float)number(*v, "presence_penalty", -2, 2);
    }
    if (const json* v = field(body, "frequency_penalty")) {
        s.frequency_penalty = (float)number(*v, "frequency_penalty", -2, 2);
    }
    if (const json* v = field(body, "seed")) {
        s.seed = (uint64_t)integer(*v, "seed", std::numeric_limits<int64_t>::min(),
                                   std::numeric_limits<int64_t>::max());
    }
    for (const char* name : {"max_tokens", "max_completion_tokens"}) {
        if (const json* v = field(body, name))
            p.generate.max_tokens = (int)integer(*v, name, 0, 1 << 30);
    }
    if (const json* v = field(body, "stop")) p.generate.stop = stop_list(*v, "stop");
    if (const json* v = field(body, "logit_bias")) {
        if (!v->is_object()) throw HttpError(400, "'logit_bias' must be an object", "logit_bias");
        for (const auto& [k, b] : v->items()) {
            int32_t id = 0;
            try {
                size_t used = 0;
                id = std::stoi(k, &used);
                if (used != k.size()) throw std::invalid_argument(k);
            } catch (const std::exception&) {
                throw HttpError(400, "'logit_bias' keys must be token ids", "logit_bias");
            }
            s.logit_bias[id] = (float)number(b, "logit_bias." + k, -100, 100);
        }
    }
    return p;
}

GenerationParams anthropic_params(const json& model_params, const json& body) {
    GenerationParams p = openai_params(model_params, json::object());
    sampling::SamplingParams& s = p.sampling;
    if (const json* v = field(body, "temperature"))
        s.temperature = (float)number(*v, "temperature", 0, 1);
    if (const json* v = field(body, "top_p")) s.top_p = (float)number(*v, "top_p", 0, 1);
    if (const json* v = field(body, "top_k")) s.top_k = (int)integer(*v, "top_k", 0, 1 << 30);
    const json* max = field(body, "max_tokens");
    if (!max) throw HttpError(400, "'max_tokens' is required", "max_tokens");
    p.generate.max_tokens = (int)integer(*max, "max_tokens", 1, 1 << 30);
    if (const json* v = field(body, "stop_sequences")) {
        p.generate.stop = stop_list(*v, "stop_sequences");
    }
    return p;
}

GenerationParams llama_server_params(const json& model_params, const json& body) {
    GenerationParams p = defaults(model_params);
    // llama-server's sampling fields carry Ollama's option names, except n_predict.
    json options = json::object();
    for (const char* key : {"temperature", "top_k", "top_p", "min_p", "typical_p", "repeat_penalty",
                            "repeat_last_n", "presence_penalty", "frequency_penalty", "seed",
                            "stop"}) {
        if (const json* v = field(body, key)) options[key] = *v;
    }
    apply_ollama(p, options, "");
    if (const json* v = field(body, "n_predict")) {
        const int64_t n = integer(*v, "n_predict", -1, 1 << 30);
        p.generate.max_tokens = n < 0 ? -1 : (int)n;
    }
    if (const json* spec = field(body, "speculative.n_max")) {
        p.draft_max = (int)integer(*spec, "speculative.n_max", 0, 256);
    }
    return p;
}

std::optional<double> parse_keep_alive(const json& body) {
    const json* v = field(body, "keep_alive");
    if (!v) return std::nullopt;
    if (v->is_number()) return v->get<double>();
    if (!v->is_string())
        throw HttpError(400, "'keep_alive' must be a number or a duration", "keep_alive");
    const std::string s = v->get<std::string>();
    // Go-style durations: [-]<number><unit>... with units h, m, s, ms; a bare number is seconds.
    size_t i = 0;
    bool negative = false;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) negative = s[i++] == '-';
    double total = 0;
    bool any = false;
    while (i < s.size()) {
        size_t j = i;
        while (j < s.size() && (std::isdigit((unsigned char)s[j]) || s[j] == '.')) ++j;
        if (j == i) throw HttpError(400, "'keep_alive' is not a duration: " + s, "keep_alive");
        const double n = std::stod(s.substr(i, j - i));
        size_t k = j;
        while (k < s.size() && std::isalpha((unsigned char)s[k])) ++k;
        const std::string unit = s.substr(j, k - j);
        double scale;
        if (unit.empty() || unit == "s") {
            scale = 1;
        } else if (unit == "m") {
            scale = 60;
        } else if (unit == "h") {
            scale = 3600;
        } else if (unit == "ms") {
            scale = 1e-3;
        } else {
            throw HttpError(400, "'keep_alive' has an unknown unit: " + s, "keep_alive");
        }
        total += n * scale;
        any = true;
        i = k;
    }
    if (!any) throw HttpError(400, "'keep_alive' is empty", "keep_alive");
    return negative ? -total : total;
}

json flat_tools_as_chat_tools(const json& body, const char* schema_key, bool only_functions) {
    const json* tools = field(body, "tools");
    if (!tools || tools->is_null()) return nullptr;
    if (!tools->is_array()) throw HttpError(400, "'tools' must be a list", "tools");
    json out = json::array();
    for (size_t i = 0; i < tools->size(); ++i) {
        const json& t = (*tools)[i];
        const std::string at = "tools[" + std::to_string(i) + "]";
        if (only_functions && (!t.is_object() || t.value("type", "") != "function")) {
            throw HttpError(400, "'" + at + "': only function tools are supported", at);
        }
        if (!t.is_object() || !t.contains("name") || !t["name"].is_string()) {
            throw HttpError(400, "'" + at + ".name' must be a string", at + ".name");
        }
        json fn = {{"name", t["name"]}};
        if (t.contains("description")) fn["description"] = t["description"];
        fn["parameters"] = t.contains(schema_key) ? t[schema_key] : json::object();
        out.push_back({{"type", "function"}, {"function", fn}});
    }
    return out;
}

std::string parts_text(const json& content, const std::string& where,
                       std::initializer_list<std::string_view> text_types,
                       std::string_view separator) {
    if (content.is_string()) return content.get<std::string>();
    if (!content.is_array()) {
        throw HttpError(400, "'" + where + "' must be a string or a list of parts", where);
    }
    std::string out;
    for (size_t i = 0; i < content.size(); ++i) {
        const json& p = content[i];
        const std::string at = where + "[" + std::to_string(i) + "]";
        const std::string type = p.is_object() ? p.value("type", "") : "";
        const bool text = std::find(text_types.begin(), text_types.end(), type) != text_types.end();
        if (text && p.contains("text") && p["text"].is_string()) {
            if (i > 0) out += separator;
            out += p["text"].get<std::string>();
        } else if (type.find("image") != std::string::npos ||
                   type.find("file") != std::string::npos ||
                   type.find("audio") != std::string::npos || type == "document") {
            std::string message = "'" + at + "': ";
            message.append(type).append(" parts are not supported (the model reads text only)");
            throw HttpError(400, message, at);
        } else {
            throw HttpError(400, "'" + at + "' must be a text part", at);
        }
    }
    return out;
}

}  // namespace lokal::server
