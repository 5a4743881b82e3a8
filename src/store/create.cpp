#include "store/create.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/error.h"
#include "gguf/gguf_file.h"

namespace lokal::store {

namespace fs = std::filesystem;

namespace {

bool looks_like_path(const std::string& s) {
    return s.starts_with("/") || s.starts_with("./") || s.starts_with("../") ||
           s.starts_with("~") || s.ends_with(".gguf") || s.ends_with(".GGUF");
}

fs::path resolve_path(const std::string& p, const fs::path& base) {
    if (p.starts_with("~/")) {
        const char* home = std::getenv("HOME");
        if (home) return fs::path(home) / p.substr(2);
    }
    fs::path path(p);
    return path.is_absolute() ? path : base / path;
}

std::string read_blob(const Store& store, const Layer& l) {
    std::ifstream in(store.blob_path(l.digest), std::ios::binary);
    if (!in) throw Error("blob " + l.digest + " is missing from the store");
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Checks the file is a GGUF we can read and returns its architecture.
std::string gguf_architecture(const std::string& path, const std::string& what) {
    try {
        auto f = gguf::File::open(path);
        return f->get_string("general.architecture").value_or("");
    } catch (const Error& e) {
        throw Error(what + ": " + e.what());
    }
}

std::string quote_block(const std::string& s) {
    return "\"\"\"" + s + "\"\"\"";
}

}  // namespace

ModelRef create_model(Store& store, const std::string& name, const Modelfile& mf,
                      const fs::path& base_dir,
                      const std::function<void(const std::string&)>& status) {
    auto say = [&](const std::string& s) {
        if (status) status(s);
    };
    ModelRef dst = parse_ref(name);
    std::vector<Layer> inherited;
    std::string base_params = "{}";
    Layer model;
    std::string arch;
    std::error_code ec;
    fs::path from_path = resolve_path(mf.from, base_dir);
    if (looks_like_path(mf.from) || fs::is_regular_file(from_path, ec)) {
        if (!fs::is_regular_file(from_path, ec)) {
            throw Error("FROM: no such file '" + from_path.string() + "'", ErrorKind::NotFound);
        }
        arch = gguf_architecture(from_path.string(), "FROM " + mf.from);
        say("importing " + from_path.string());
        model = store.import_file(media::kModel, from_path.string());
    } else {
        ModelRef src = parse_ref(mf.from);
        auto m = store.read_manifest(src);
        if (!m)
            throw Error("FROM: model '" + mf.from + "' not found; try lokal pull " + mf.from,
                        ErrorKind::NotFound);
        const Layer* ml = m->find(media::kModel);
        if (!ml) throw Error("FROM: model '" + mf.from + "' has no model layer");
        model = *ml;
        for (const Layer& l : m->layers) {
            if (l.media_type == media::kParams) {
                base_params = read_blob(store, l);
            } else if (l.media_type != media::kModel) {
                inherited.push_back(l);
            }
        }
        arch = gguf_architecture(store.blob_path(model.digest).string(), "FROM " + mf.from);
    }

    Manifest out;
    out.layers.push_back(model);
    // Inherited layers stay unless the Modelfile replaces their kind.
    auto replaced = [&](const std::string& mt) {
        return (mt == media::kTemplate && mf.template_text) ||
               (mt == media::kSystem && mf.system) || (mt == media::kLicense && mf.license) ||
               (mt == media::kMessages && !mf.messages.empty()) ||
               (mt == media::kAdapter && !mf.adapters.empty());
    };
    for (const Layer& l : inherited) {
        if (!replaced(l.media_type)) out.layers.push_back(l);
    }
    for (const std::string& a : mf.adapters) {
        fs::path p = resolve_path(a, base_dir);
        gguf_architecture(p.string(), "ADAPTER " + a);
        say("importing adapter " + p.string());
        out.layers.push_back(store.import_file(media::kAdapter, p.string()));
    }
    if (mf.template_text) out.layers.push_back(store.put_blob(media::kTemplate, *mf.template_text));
    if (mf.system) out.layers.push_back(store.put_blob(media::kSystem, *mf.system));
    if (!mf.parameters.empty() || base_params != "{}") {
        out.layers.push_back(
            store.put_blob(media::kParams, params_json(mf.parameters, base_params)));
    }
    if (!mf.messages.empty()) {
        nlohmann::json msgs = nlohmann::json::array();
        for (const auto& [role, content] : mf.messages) {
            msgs.push_back({{"role", role}, {"content", content}});
        }
        out.layers.push_back(store.put_blob(media::kMessages, msgs.dump()));
    }
    if (mf.license) out.layers.push_back(store.put_blob(media::kLicense, *mf.license));
    nlohmann::json config = {{"model_format", "gguf"}, {"model_family", arch}};
    out.config = store.put_blob(media::kConfig, config.dump());
    say("writing manifest");
    store.write_manifest(dst, out.to_json());
    return dst;
}

std::string modelfile_for(const Store& store, const ModelRef& ref) {
    auto m = store.read_manifest(ref);
    if (!m) throw Error("model '" + ref.display() + "' not found", ErrorKind::NotFound);
    std::string out = "# Modelfile generated by lokal for " + ref.display() + "\n";
    if (const Layer* l = m->find(media::kModel)) {
        out += "FROM " + store.blob_path(l->digest).string() + "\n";
    }
    for (const Layer& l : m->layers) {
        if (l.media_type == media::kTemplate) {
            out += "TEMPLATE " + quote_block(read_blob(store, l)) + "\n";
        } else if (l.media_type == media::kSystem) {
            out += "SYSTEM " + quote_block(read_blob(store, l)) + "\n";
        } else if (l.media_type == media::kLicense) {
            out += "LICENSE " + quote_block(read_blob(store, l)) + "\n";
        } else if (l.media_type == media::kAdapter) {
            out += "ADAPTER " + store.blob_path(l.digest).string() + "\n";
        } else if (l.media_type == media::kParams) {
            auto j = nlohmann::json::parse(read_blob(store, l), nullptr, false);
            if (!j.is_object()) continue;
            for (auto& [k, v] : j.items()) {
                if (v.is_array()) {
                    for (auto& s : v) {
                        out += "PARAMETER " + k + " " +
                               (s.is_string() ? nlohmann::json(s.get<std::string>()).dump()
                                              : s.dump()) +
                               "\n";
                    }
                } else {
                    out += "PARAMETER " + k + " " + v.dump() + "\n";
                }
            }
        } else if (l.media_type == media::kMessages) {
            auto j = nlohmann::json::parse(read_blob(store, l), nullptr, false);
            if (!j.is_array()) continue;
            for (auto& msg : j) {
                out += "MESSAGE " + msg.value("role", "user") + " " +
                       nlohmann::json(msg.value("content", "")).dump() + "\n";
            }
        }
    }
    return out;
}

}  // namespace lokal::store
