#include "store/resolve.h"

#include <filesystem>

#include "base/error.h"
#include "store/store.h"

namespace lokal::store {

namespace {

bool looks_like_path(const std::string& s) {
    return s.starts_with("/") || s.starts_with("./") || s.starts_with("../") ||
           s.starts_with("~") || s.ends_with(".gguf") || s.ends_with(".GGUF");
}

}  // namespace

std::string resolve_model(const std::string& name_or_path) {
    std::error_code ec;
    if (std::filesystem::is_regular_file(name_or_path, ec) || looks_like_path(name_or_path)) {
        return name_or_path;
    }
    ModelRef ref = parse_ref(name_or_path);
    Store store = Store::open_default();
    auto m = store.read_manifest(ref);
    if (!m) {
        throw Error("model '" + name_or_path + "' not found; try lokal pull " + name_or_path,
                    ErrorKind::NotFound);
    }
    const Layer* layer = m->find(media::kModel);
    if (!layer) throw Error("model '" + name_or_path + "' has no model layer");
    std::string path = store.blob_path(layer->digest).string();
    if (!std::filesystem::is_regular_file(path, ec)) {
        throw Error("model '" + name_or_path + "' is incomplete (blob " + layer->digest +
                    " is missing); pull it again");
    }
    return path;
}

}  // namespace lokal::store
