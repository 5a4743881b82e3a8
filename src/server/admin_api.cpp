// Endpoints that manage models and report status: Ollama's /api/tags, /api/show, /api/ps,
// /api/pull, /api/push, /api/create, /api/copy, /api/delete, /api/version, and /, /health,
// /metrics, /tokenize, /detokenize.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/error.h"
#include "chat/capabilities.h"
#include "gguf/file_summary.h"
#include "server/api_util.h"
#include "server/http_error.h"
#include "server/model_manager.h"
#include "store/create.h"
#include "store/create_quantized.h"
#include "store/modelfile.h"
#include "store/pull.h"
#include "store/push.h"
#include "store/reference.h"
#include "store/resolve.h"
#include "store/sha256.h"
#include "store/store.h"
#include "tokenizer/tokenizer.h"

namespace lokal::server {
namespace {

using json = nlohmann::ordered_json;

std::string iso_time(std::filesystem::file_time_type t) {
    const auto sys = std::chrono::file_clock::to_sys(t);
    const std::time_t secs = std::chrono::system_clock::to_time_t(sys);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

std::string iso_time(std::chrono::system_clock::time_point t) {
    const std::time_t secs = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

// The sha256 of a stored model's manifest; "" for a model loaded from a file path.
std::string manifest_digest(const std::string& name) {
    if (!store::is_valid_ref(name)) return "";
    try {
        const auto bytes = store::Store::open_default().read_manifest_bytes(store::parse_ref(name));
        return bytes ? store::sha256_hex(*bytes) : "";
    } catch (const Error&) {
        return "";
    }
}

// Ollama's "details" object, read from the GGUF header (no weights are loaded).
json details_of(const std::string& path) {
    json d = {{"parent_model", ""}, {"format", "gguf"}};
    try {
        auto f = gguf::File::open(path);
        const std::string arch = f->get_string("general.architecture").value_or("");
        d["family"] = arch;
        d["families"] = json::array({arch});
        d["parameter_size"] = gguf::human_count((double)gguf::parameter_count(*f));
        d["quantization_level"] = gguf::quantization_name(*f);
    } catch (const Error&) {
        d["family"] = "";
    }
    return d;
}

std::string model_name_field(const json& body) {
    if (const json* m = field(body, "model")) {
        if (!m->is_string()) throw HttpError(400, "'model' must be a string", "model");
        return m->get<std::string>();
    }
    if (const json* n = field(body, "name")) {
        if (!n->is_string()) throw HttpError(400, "'name' must be a string", "name");
        return n->get<std::string>();
    }
    throw HttpError(400, "'model' is required", "model");
}

store::ModelRef parse_ref_400(const std::string& name, const char* param) {
    try {
        return store::parse_ref(name);
    } catch (const Error& e) {
        throw HttpError(400, e.what(), param);
    }
}

std::string read_blob(const store::Store& s, const store::Manifest& m, const char* media) {
    const store::Layer* l = m.find(media);
    if (!l) return "";
    std::ifstream in(s.blob_path(l->digest), std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Pull (and push) progress as Ollama's /api/pull (/api/push) streams it.
class NdjsonPullEvents : public store::PullEvents {
  public:
    // `verb` labels each layer: "pulling" or "pushing".
    explicit NdjsonPullEvents(std::function<void(const json&)> emit, std::string verb = "pulling")
        : emit_(std::move(emit)), verb_(std::move(verb)) {}
    void status(const std::string& message) override { emit_({{"status", message}}); }
    void layer_begin(const std::string& digest, uint64_t total, uint64_t done) override {
        emit_({{"status", verb_ + " " + short_digest(digest)},
               {"digest", digest},
               {"total", total},
               {"completed", done}});
    }
    void layer_progress(const std::string& digest, uint64_t done, uint64_t total) override {
        const auto now = std::chrono::steady_clock::now();
        if (now - last_ < std::chrono::milliseconds(200) && done != total) return;
        last_ = now;
        emit_({{"status", verb_ + " " + short_digest(digest)},
               {"digest", digest},
               {"total", total},
               {"completed", done}});
    }
    void layer_end(const std::string& digest, uint64_t total) override {
        emit_({{"status", verb_ + " " + short_digest(digest)},
               {"digest", digest},
               {"total", total},
               {"completed", total}});
    }

  private:
    static std::string short_digest(const std::string& d) {
        const auto at = d.find(':');
        return d.substr(at == std::string::npos ? 0 : at + 1, 12);
    }
    std::function<void(const json&)> emit_;
    std::string verb_;
    std::chrono::steady_clock::time_point last_{};
};

void tags(ServerState&, const httplib::Request&, httplib::Response& res) {
    store::Store s = store::Store::open_default();
    json models = json::array();
    for (const auto& e : s.list()) {
        const store::Layer* l = e.manifest.find(store::media::kModel);
        json m = {{"name", e.ref.display()},
                  {"model", e.ref.display()},
                  {"modified_at", iso_time(e.modified)},
                  {"size", e.size},
                  {"digest", e.digest}};
        m["details"] = l ? details_of(s.blob_path(l->digest).string()) : json::object();
        models.push_back(m);
    }
    res.set_content(json{{"models", models}}.dump(-1, ' ', false, kReplaceInvalidUtf8),
                    "application/json");
}

void show(ServerState& state, const httplib::Request& req, httplib::Response& res) {
    const json body = parse_body(req);
    const std::string name = model_name_field(body);
    std::string path;
    try {
        path = store::resolve_model(name, state.models.params().allow_paths
                                              ? store::PathAccess::Allowed
                                              : store::PathAccess::StoreOnly);
    } catch (const Error& e) {
        if (e.kind() != ErrorKind::NotFound)
            throw HttpError(http_status(e.kind()), e.what(), "model");
        throw ModelNotFound("model '" + name + "' not found");
    }
    if (!std::filesystem::is_regular_file(path))
        throw ModelNotFound("model '" + name + "' not found");
    json j;
    j["details"] = details_of(path);
    j["modified_at"] = iso_time(std::filesystem::last_write_time(path));
    store::Store s = store::Store::open_default();
    std::optional<store::Manifest> m;
    try {
        m = s.read_manifest(store::parse_ref(name));
    } catch (const Error&) {
    }
    if (m) {
        j["modelfile"] = store::modelfile_for(s, store::parse_ref(name));
        j["template"] = read_blob(s, *m, store::media::kTemplate);
        j["system"] = read_blob(s, *m, store::media::kSystem);
        j["license"] = read_blob(s, *m, store::media::kLicense);
        const json messages =
            json::parse(read_blob(s, *m, store::media::kMessages), nullptr, false);
        if (messages.is_array() && !messages.empty()) j["messages"] = messages;
        const std::string params = read_blob(s, *m, store::media::kParams);
        std::string lines;
        const json p = json::parse(params.empty() ? "{}" : params, nullptr, false);
        if (p.is_object()) {
            for (const auto& [k, v] : p.items()) {
                if (v.is_array()) {
                    for (const auto& x : v)
                        lines += k + " " +
                                 (x.is_string() ? x.get<std::string>()
                                                : x.dump(-1, ' ', false, kReplaceInvalidUtf8)) +
                                 "\n";
                } else {
                    lines += k + " " +
                             (v.is_string() ? v.get<std::string>()
                                            : v.dump(-1, ' ', false, kReplaceInvalidUtf8)) +
                             "\n";
                }
            }
        }
        j["parameters"] = lines;
    }
    auto f = gguf::File::open(path);
    json info = json::object();
    for (const auto& [key, v] : f->metadata()) {
        if (key.starts_with("tokenizer.ggml.") && v.type == gguf::ValueType::ARRAY) continue;
        if (v.type == gguf::ValueType::STRING) {
            info[key] = v.str;
        } else if (v.is_integer()) {
            info[key] = v.i;
        } else if (v.is_float()) {
            info[key] = v.f;
        }
    }
    if (!j.contains("template") || j["template"] == "") {
        j["template"] = f->get_string("tokenizer.chat_template").value_or("");
    }
    j["model_info"] = info;
    json caps = chat::model_capabilities(*f);
    j["capabilities"] = caps;
    res.set_content(j.dump(-1, ' ', false, kReplaceInvalidUtf8), "application/json");
}

// The model's share on the GPU: its size in proportion to the layers offloaded.
size_t vram_bytes(const LoadedModel& m) {
    const int n_layer = m.model->config().n_layer;
    if (!m.scheduler || n_layer == 0) return 0;
    return (size_t)((double)m.size_bytes * m.scheduler->gpu_layers() / n_layer);
}

void ps(ServerState& state, const httplib::Request&, httplib::Response& res) {
    json models = json::array();
    for (const auto& m : state.models.loaded()) {
        json e = {{"name", m.name},
                  {"model", m.name},
                  {"size", m.size_bytes},
                  {"size_vram", vram_bytes(*m.model)},
                  {"digest", manifest_digest(m.name)},
                  {"details", details_of(m.model->path)}};
        // Kept forever (keep_alive < 0): a far-future time, as Ollama reports it.
        e["expires_at"] = iso_time(m.expires_at == Clock::time_point::max()
                                       ? Clock::now() + std::chrono::hours(24 * 365 * 200)
                                       : m.expires_at);
        if (m.model->scheduler) e["context_length"] = m.model->scheduler->n_ctx();
        models.push_back(e);
    }
    res.set_content(json{{"models", models}}.dump(-1, ' ', false, kReplaceInvalidUtf8),
                    "application/json");
}

void copy(ServerState&, const httplib::Request& req, httplib::Response& res) {
    const json body = parse_body(req);
    const auto src = parse_ref_400(required_string(body, "source"), "source");
    const auto dst = parse_ref_400(required_string(body, "destination"), "destination");
    store::Store s = store::Store::open_default();
    if (!s.read_manifest(src)) throw ModelNotFound("model '" + src.display() + "' not found");
    s.copy(src, dst);
    res.status = 200;
}

void remove(ServerState& state, const httplib::Request& req, httplib::Response& res) {
    const json body = parse_body(req);
    const std::string name = model_name_field(body);
    const auto ref = parse_ref_400(name, "model");
    store::Store s = store::Store::open_default();
    state.models.unload(name);
    if (!s.remove(ref)) throw ModelNotFound("model '" + name + "' not found");
    forget_removed_models_repacked_weights(s);
    res.status = 200;
}

// A pull or push (`transfer`, which reports to the events it is given and ends with a
// "success" status): whole, one {"status": "success"} or an error status; or streamed as NDJSON
// progress events, written as they happen while the transfer runs on this thread, an error
// ending the stream as {"error": ...}.
void answer_transfer(httplib::Response& res, bool streaming, const std::string& verb,
                     const std::function<void(store::Store&, store::PullEvents&)>& transfer) {
    if (!streaming) {
        store::Store s = store::Store::open_default();
        NdjsonPullEvents events([](const json&) {}, verb);
        try {
            transfer(s, events);
        } catch (const Error& e) {
            throw HttpError(http_status(e.kind()), e.what());
        }
        res.set_content(json{{"status", "success"}}.dump(-1, ' ', false, kReplaceInvalidUtf8),
                        "application/json");
        return;
    }
    res.set_chunked_content_provider(
        "application/x-ndjson", [verb, transfer](size_t, httplib::DataSink& sink) {
            bool client_gone = false;
            auto emit = [&](const json& j) {
                const std::string line = j.dump(-1, ' ', false, kReplaceInvalidUtf8) + "\n";
                if (!client_gone && !sink.write(line.data(), line.size())) client_gone = true;
            };
            NdjsonPullEvents events(emit, verb);
            try {
                store::Store s = store::Store::open_default();
                transfer(s, events);
            } catch (const std::exception& e) {
                emit({{"error", e.what()}});
            }
            sink.done();
            return true;
        });
}

void pull(ServerState& state, const httplib::Request& req, httplib::Response& res) {
    const json body = parse_body(req);
    const std::string name = model_name_field(body);
    const bool streaming = optional_bool(body, "stream", true);
    store::PullOptions opts = store::PullOptions::from_env();
    opts.insecure = optional_bool(body, "insecure", false);
    if (!name.starts_with("http://") && !name.starts_with("https://")) parse_ref_400(name, "model");
    state.note(req, {name, 0, 0});
    answer_transfer(res, streaming, "pulling",
                    [name, opts](store::Store& s, store::PullEvents& events) {
                        store::pull(s, name, events, opts);
                    });
}

// Ollama's /api/push: {model, insecure, stream}. The push itself emits the "success" status.
void push(ServerState& state, const httplib::Request& req, httplib::Response& res) {
    const json body = parse_body(req);
    const std::string name = model_name_field(body);
    const bool streaming = optional_bool(body, "stream", true);
    store::PullOptions opts = store::PullOptions::from_env();
    opts.insecure = optional_bool(body, "insecure", false);
    const auto ref = parse_ref_400(name, "model");
    // An unknown model is a 404 before any stream starts.
    if (!store::Store::open_default().read_manifest(ref)) {
        throw ModelNotFound("model '" + name + "' not found");
    }
    state.note(req, {name, 0, 0});
    answer_transfer(res, streaming, "pushing",
                    [name, opts](store::Store& s, store::PullEvents& events) {
                        store::push(s, name, events, opts);
                    });
}

// `files` and `adapters` name blobs uploaded through /api/blobs, by file name: {"m.gguf":
// "sha256:..."}, as the ollama client sends them. The GGUF among the files becomes FROM.
void add_uploaded_files(const json& body, store::Modelfile& mf) {
    auto digests = [&](const char* key) {
        std::vector<std::pair<std::string, std::string>> out;
        const json* v = field(body, key);
        if (!v || v->is_null()) return out;
        if (!v->is_object()) {
            throw HttpError(400, std::string("'") + key + "' must map file names to digests", key);
        }
        for (const auto& [file, digest] : v->items()) {
            if (!digest.is_string() || !store::is_valid_digest(digest.get<std::string>())) {
                throw HttpError(400,
                                std::string("'") + key + "': '" + file +
                                    "' must name a digest (sha256:<64 lowercase hex>)",
                                key);
            }
            out.emplace_back(file, digest.get<std::string>());
        }
        return out;
    };
    const auto files = digests("files");
    if (!files.empty()) {
        std::vector<std::string> ggufs;
        for (const auto& [file, digest] : files) {
            if (file.ends_with(".gguf") || file.ends_with(".GGUF")) ggufs.push_back("@" + digest);
        }
        if (ggufs.empty()) {
            throw HttpError(400,
                            "'files' holds no .gguf file; importing safetensors is not supported "
                            "yet (convert the model to GGUF first)",
                            "files");
        }
        if (ggufs.size() > 1) {
            throw HttpError(400, "'files' holds several .gguf files; give one", "files");
        }
        if (!mf.from.empty()) throw HttpError(400, "give either 'from' or 'files'", "files");
        mf.from = ggufs.front();
    }
    for (const auto& [file, digest] : digests("adapters")) mf.adapters.push_back("@" + digest);
}

void create(ServerState& state, const httplib::Request& req, httplib::Response& res) {
    const json body = parse_body(req);
    const std::string name = model_name_field(body);
    parse_ref_400(name, "model");
    store::Modelfile mf;
    if (const json* text = field(body, "modelfile")) {
        if (!text->is_string()) throw HttpError(400, "'modelfile' must be a string", "modelfile");
        try {
            mf = store::parse_modelfile(text->get<std::string>());
        } catch (const Error& e) {
            throw HttpError(400, e.what(), "modelfile");
        }
    }
    if (const json* from = field(body, "from")) {
        if (!from->is_string()) throw HttpError(400, "'from' must be a string", "from");
        mf.from = from->get<std::string>();
    }
    // A draft model for speculative decoding (a Modelfile's DRAFT): a model name or a blob.
    if (const json* draft = field(body, "draft"); draft && !draft->is_null()) {
        if (!draft->is_string()) throw HttpError(400, "'draft' must be a string", "draft");
        mf.draft = draft->get<std::string>();
    }
    for (const char* key : {"template", "system", "license"}) {
        const json* v = field(body, key);
        if (!v) continue;
        std::string text;
        if (v->is_string()) {
            text = v->get<std::string>();
        } else if (v->is_array() && std::string(key) == "license") {
            for (const auto& x : *v) text += x.is_string() ? x.get<std::string>() + "\n" : "";
        } else {
            throw HttpError(400, std::string("'") + key + "' must be a string", key);
        }
        if (std::string(key) == "template") mf.template_text = text;
        if (std::string(key) == "system") mf.system = text;
        if (std::string(key) == "license") mf.license = text;
    }
    if (const json* p = field(body, "parameters")) {
        if (!p->is_object()) throw HttpError(400, "'parameters' must be an object", "parameters");
        for (const auto& [k, v] : p->items()) {
            if (v.is_array()) {
                for (const auto& x : v)
                    mf.parameters.emplace_back(
                        k, x.is_string() ? x.get<std::string>()
                                         : x.dump(-1, ' ', false, kReplaceInvalidUtf8));
            } else {
                mf.parameters.emplace_back(k, v.is_string()
                                                  ? v.get<std::string>()
                                                  : v.dump(-1, ' ', false, kReplaceInvalidUtf8));
            }
        }
    }
    if (const json* msgs = field(body, "messages"); msgs && !msgs->is_null()) {
        if (!msgs->is_array()) throw HttpError(400, "'messages' must be an array", "messages");
        mf.messages.clear();
        for (const auto& m : *msgs) {
            if (!m.is_object() || !m.contains("role") || !m["role"].is_string() ||
                !m.contains("content") || !m["content"].is_string()) {
                throw HttpError(400, "each of 'messages' needs a string role and content",
                                "messages");
            }
            mf.messages.emplace_back(m["role"].get<std::string>(), m["content"].get<std::string>());
        }
    }
    add_uploaded_files(body, mf);
    if (mf.from.empty()) {
        throw HttpError(400, "'from', 'files' (or a modelfile with FROM) is required", "from");
    }
    std::string quantize;
    if (const json* q = field(body, "quantize"); q && !q->is_null()) {
        if (!q->is_string()) throw HttpError(400, "'quantize' must be a string", "quantize");
        quantize = q->get<std::string>();
    }
    store::Store s = store::Store::open_default();
    try {
        const store::PathAccess access = state.models.params().allow_paths
                                             ? store::PathAccess::Allowed
                                             : store::PathAccess::StoreOnly;
        if (quantize.empty()) {
            store::create_model(s, name, mf, std::filesystem::current_path(), access);
        } else {
            store::create_quantized_model(s, name, mf, std::filesystem::current_path(), access,
                                          quantize);
        }
    } catch (const Error& e) {
        throw HttpError(http_status(e.kind()), e.what());
    }
    state.models.unload(name);  // a loaded model of that name is stale now
    const bool streaming = optional_bool(body, "stream", true);
    const std::string out = json{{"status", "success"}}.dump(-1, ' ', false, kReplaceInvalidUtf8);
    res.set_content(streaming ? out + "\n" : out,
                    streaming ? "application/x-ndjson" : "application/json");
}

void tokenize(ServerState& state, const httplib::Request& req, httplib::Response& res) {
    const json body = parse_body(req);
    const std::string model = required_string(body, "model");
    std::string text;
    if (field(body, "content")) {
        text = required_string(body, "content");
    } else {
        text = required_string(body, "prompt");
    }
    const bool add_special = optional_bool(body, "add_special", false);
    auto lease = state.models.acquire(model, parse_keep_alive(body));
    const auto tokens = (*lease)->model->tokenizer().encode(text, add_special, true);
    res.set_content(json{{"tokens", tokens}}.dump(-1, ' ', false, kReplaceInvalidUtf8),
                    "application/json");
}

void detokenize(ServerState& state, const httplib::Request& req, httplib::Response& res) {
    const json body = parse_body(req);
    const std::string model = required_string(body, "model");
    const json* t = field(body, "tokens");
    if (!t || !t->is_array())
        throw HttpError(400, "'tokens' must be a list of token ids", "tokens");
    auto lease = state.models.acquire(model, parse_keep_alive(body));
    const auto& tok = (*lease)->model->tokenizer();
    std::vector<int32_t> ids;
    for (const auto& x : *t) {
        if (!x.is_number_integer() || x.get<int64_t>() < 0 || x.get<int64_t>() >= tok.n_vocab()) {
            throw HttpError(400, "'tokens' holds something that is not a token id", "tokens");
        }
        ids.push_back(x.get<int32_t>());
    }
    res.set_content(json{{"content", tok.decode(ids)}}.dump(-1, ' ', false, kReplaceInvalidUtf8),
                    "application/json");
}

}  // namespace

void register_admin_routes(httplib::Server& http, ServerState& state) {
    auto route = [&state](void (*fn)(ServerState&, const httplib::Request&, httplib::Response&)) {
        return guarded(state, [&state, fn](const auto& req, auto& res) { fn(state, req, res); });
    };
    http.Get("/",
             [](const auto&, auto& res) { res.set_content("lokal is running", "text/plain"); });
    http.Get("/api/version", [](const auto&, auto& res) {
        res.set_content(json{{"version", "0.1.0"}}.dump(-1, ' ', false, kReplaceInvalidUtf8),
                        "application/json");
    });
    http.Get("/health", [](const auto&, auto& res) {
        res.set_content(json{{"status", "ok"}}.dump(-1, ' ', false, kReplaceInvalidUtf8),
                        "application/json");
    });
    http.Get("/metrics", [&state](const auto&, auto& res) {
        res.set_content(state.metrics.render(state.models), "text/plain; version=0.0.4");
    });
    http.Get("/api/tags", route(tags));
    http.Post("/api/show", route(show));
    http.Get("/api/ps", route(ps));
    http.Post("/api/copy", route(copy));
    http.Delete("/api/delete", route(remove));
    http.Post("/api/pull", route(pull));
    http.Post("/api/push", route(push));
    http.Post("/api/create", route(create));
    http.Post("/tokenize", route(tokenize));
    http.Post("/detokenize", route(detokenize));
}

}  // namespace lokal::server
