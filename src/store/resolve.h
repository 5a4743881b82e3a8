// Turns what a user typed for a model into a file to load: an existing file path as is,
// otherwise the GGUF blob of the named model in the store.
#pragma once

#include <string>

namespace lokal::store {

// Throws lokal::Error "model 'x' not found; try lokal pull x" for a name the store lacks.
// Something that looks like a path (absolute, ./, ../, ~ or ending in .gguf) is returned as is,
// so the loader reports the missing file.
std::string resolve_model(const std::string& name_or_path);

}  // namespace lokal::store
