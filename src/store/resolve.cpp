#include "store/resolve.h"

#include <filesystem>

#include "base/error.h"
#include "store/store.h"

namespace lokal::store {

std::string path_refused_message(const std::string& what) {
    return "'" + what +
           "' is a file path; over the API a model is named by its store reference (name:tag): "
           "create it with `lokal create` or upload the file through /api/blobs (or start the "
           "server with --allow-paths to load files from its disk)";
}

std::string resolve_model(const std::string& name_or_path, PathAccess access) {
    if (access == PathAccess::StoreOnly) {
        if (looks_like_file_path(name_or_path)) {
            throw Error(path_refused_message(name_or_path), ErrorKind::InvalidInput);
        }
    } else {
        std::error_code ec;
        if (std::filesystem::is_regular_file(name_or_path, ec) ||
            looks_like_file_path(name_or_path)) {
            return name_or_path;
        }
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
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
        throw Error("model '" + name_or_path + "' is incomplete (blob " + layer->digest +
                    " is missing); pull it again");
    }
    return path;
}

}  // namespace lokal::store
