// Turns what a user typed for a model into a file to load: an existing file path as is (where
// paths are allowed), otherwise the GGUF blob of the named model in the store.
#pragma once

#include <string>

namespace lokal::store {

// Whether a model may be named by a file path. The local CLI allows it; the HTTP API does not
// (unless its operator says so), or any client could load, and map, the server's files.
enum class PathAccess { Allowed, StoreOnly };

// Throws lokal::Error (NotFound) "model 'x' not found; try lokal pull x" for a name the store
// lacks. With paths allowed, something that looks like a path (absolute, ./, ../, ~ or ending in
// .gguf) is returned as is, so the loader reports the missing file. Store-only, such a name is
// refused (InvalidInput) without looking at the file system, so the answer says nothing about
// which files exist.
std::string resolve_model(const std::string& name_or_path,
                          PathAccess access = PathAccess::Allowed);

// The message for a file path given where only store references are accepted.
std::string path_refused_message(const std::string& what);

}  // namespace lokal::store
