#include "store/create.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/error.h"
#include "convert/hf_convert.h"
#include "gguf/gguf_file.h"
#include "store/sha256.h"
#include "tokenizer/draft_vocabulary.h"
#include "tokenizer/tokenizer.h"

namespace lokal::store {

namespace fs = std::filesystem;

namespace {

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

// A file that FROM or ADAPTER names: a blob of this store (`@sha256:<hex>`, `sha256:<hex>`, or the
// blob's own path as `lokal show --modelfile` prints it), or, where paths are allowed, any file.
struct NamedFile {
    fs::path path;
    std::string digest;  // set for a blob already in the store
};

std::optional<std::string> blob_digest_of(const Store& store, const std::string& arg) {
    std::string d = arg.starts_with("@") ? arg.substr(1) : arg;
    if (is_valid_digest(d)) return d;
    const fs::path p = fs::path(arg).lexically_normal();
    const std::string name = p.filename().string();
    if (name.starts_with("sha256-") &&
        p.parent_path() == fs::absolute(store.blobs_dir()).lexically_normal()) {
        d = "sha256:" + name.substr(7);
        if (is_valid_digest(d)) return d;
    }
    return std::nullopt;
}

// nullopt: `arg` is a model reference.
std::optional<NamedFile> named_file(const Store& store, const std::string& arg,
                                    const fs::path& base, PathAccess access,
                                    const std::string& what) {
    if (auto digest = blob_digest_of(store, arg)) {
        if (!store.has_blob(*digest)) {
            throw Error(what + ": blob " + *digest +
                            " is not in the store; upload it first (POST /api/blobs/" + *digest +
                            ")",
                        ErrorKind::NotFound);
        }
        return NamedFile{store.blob_path(*digest), *digest};
    }
    if (access == PathAccess::StoreOnly) {
        if (looks_like_file_path(arg)) {
            throw Error(what + ": " + path_refused_message(arg), ErrorKind::InvalidInput);
        }
        return std::nullopt;
    }
    std::error_code ec;
    fs::path path = resolve_path(arg, base);
    if (!looks_like_file_path(arg) && !fs::is_regular_file(path, ec)) return std::nullopt;
    if (!fs::is_regular_file(path, ec)) {
        throw Error(what + ": no such file '" + path.string() + "'", ErrorKind::NotFound);
    }
    return NamedFile{path, {}};
}

// FROM a Hugging Face model folder: converted to a GGUF (F16) in the store's temporary space,
// imported as the model blob, and the temporary file removed whatever happens.
Layer import_hf_dir(Store& store, const fs::path& dir, const std::string& name,
                    const std::function<void(const std::string&)>& say) {
    say("converting " + dir.string());
    const fs::path tmp = store.temp_path("convert");
    struct RemoveOnExit {
        fs::path p;
        ~RemoveOnExit() {
            std::error_code ec;
            fs::remove(p, ec);
        }
    } cleanup{tmp};
    std::error_code ec;
    fs::create_directories(tmp.parent_path(), ec);
    convert::ConvertOptions o;
    o.name = name;
    convert::convert_hf_dir(dir, tmp.string(), o);
    say("importing " + dir.string());
    return store.import_file(media::kModel, tmp.string());
}

Layer import_named(Store& store, std::string_view media_type, const NamedFile& f) {
    if (f.digest.empty()) return store.import_file(media_type, f.path.string());
    std::error_code ec;
    const auto size = fs::file_size(f.path, ec);
    return Layer{std::string(media_type), f.digest, ec ? 0 : static_cast<uint64_t>(size)};
}

// DRAFT: a blob, a file (where paths are allowed) or a model of the store (its GGUF).
NamedFile draft_file(const Store& store, const std::string& arg, const fs::path& base,
                     PathAccess access) {
    if (auto file = named_file(store, arg, base, access, "DRAFT")) return *file;
    std::optional<Manifest> m;
    try {
        m = store.read_manifest(parse_ref(arg));
    } catch (const Error& e) {
        throw Error("DRAFT: " + std::string(e.what()), ErrorKind::InvalidInput);
    }
    if (!m) {
        throw Error("DRAFT: model '" + arg + "' not found; try lokal pull " + arg,
                    ErrorKind::NotFound);
    }
    const Layer* ml = m->find(media::kModel);
    if (!ml) throw Error("DRAFT: model '" + arg + "' has no model layer");
    return NamedFile{store.blob_path(ml->digest), ml->digest};
}

std::unique_ptr<tokenizer::Tokenizer> tokenizer_of(const fs::path& gguf, const std::string& what) {
    try {
        return tokenizer::Tokenizer::from_gguf(*gguf::File::open(gguf.string()));
    } catch (const Error& e) {
        throw Error(what + ": " + e.what(), ErrorKind::InvalidInput);
    }
}

// Refuses a draft whose guesses would mean other tokens to the model (before anything is written).
void check_draft(const fs::path& model, const NamedFile& draft, const std::string& arg) {
    const auto target = tokenizer_of(model, "FROM");
    const auto guesser = tokenizer_of(draft.path, "DRAFT " + arg);
    try {
        tokenizer::check_draft_vocabulary(*target, *guesser);
    } catch (const Error& e) {
        throw Error("DRAFT " + arg + ": " + e.what(), ErrorKind::InvalidInput);
    }
}

}  // namespace

ModelRef create_model(Store& store, const std::string& name, const Modelfile& mf,
                      const fs::path& base_dir, PathAccess access,
                      const std::function<void(const std::string&)>& status) {
    auto say = [&](const std::string& s) {
        if (status) status(s);
    };
    ModelRef dst = parse_ref(name);
    std::optional<NamedFile> draft;
    if (mf.draft) draft = draft_file(store, *mf.draft, base_dir, access);
    std::vector<Layer> inherited;
    std::string base_params = "{}";
    Layer model;
    std::string arch;
    const fs::path from_dir = resolve_path(mf.from, base_dir);
    std::error_code dir_ec;
    if (access == PathAccess::Allowed && looks_like_file_path(mf.from) &&
        fs::is_directory(from_dir, dir_ec)) {
        if (!convert::is_hf_model_dir(from_dir)) {
            throw Error("FROM: folder '" + from_dir.string() +
                            "' is not a Hugging Face model (no config.json)",
                        ErrorKind::NotFound);
        }
        model = import_hf_dir(store, from_dir, dst.model, say);
        arch = gguf_architecture(store.blob_path(model.digest).string(), "FROM " + mf.from);
        if (draft) check_draft(store.blob_path(model.digest), *draft, *mf.draft);
    } else if (auto file = named_file(store, mf.from, base_dir, access, "FROM")) {
        arch = gguf_architecture(file->path.string(), "FROM " + mf.from);
        if (draft) check_draft(file->path, *draft, *mf.draft);
        if (file->digest.empty()) say("importing " + file->path.string());
        model = import_named(store, media::kModel, *file);
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
        if (draft) check_draft(store.blob_path(model.digest), *draft, *mf.draft);
    }

    Manifest out;
    out.layers.push_back(model);
    // Inherited layers stay unless the Modelfile replaces their kind.
    auto replaced = [&](const std::string& mt) {
        return (mt == media::kTemplate && mf.template_text) ||
               (mt == media::kSystem && mf.system) || (mt == media::kLicense && mf.license) ||
               (mt == media::kMessages && !mf.messages.empty()) ||
               (mt == media::kAdapter && !mf.adapters.empty()) || (mt == media::kDraft && mf.draft);
    };
    for (const Layer& l : inherited) {
        if (!replaced(l.media_type)) out.layers.push_back(l);
    }
    for (const std::string& a : mf.adapters) {
        auto file = named_file(store, a, base_dir, access, "ADAPTER");
        if (!file) file = NamedFile{resolve_path(a, base_dir), {}};
        if (access == PathAccess::StoreOnly && file->digest.empty()) {
            throw Error("ADAPTER: " + path_refused_message(a), ErrorKind::InvalidInput);
        }
        gguf_architecture(file->path.string(), "ADAPTER " + a);
        if (file->digest.empty()) say("importing adapter " + file->path.string());
        out.layers.push_back(import_named(store, media::kAdapter, *file));
    }
    if (draft) {
        if (draft->digest.empty()) say("importing draft " + draft->path.string());
        out.layers.push_back(import_named(store, media::kDraft, *draft));
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
        } else if (l.media_type == media::kDraft) {
            out += "DRAFT " + store.blob_path(l.digest).string() + "\n";
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
