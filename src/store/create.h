// `lokal create NAME -f Modelfile`: builds a manifest from a Modelfile. FROM names a .gguf file
// (imported into the store by digest) or a model already in the store (its layers are reused);
// TEMPLATE, SYSTEM, PARAMETER, MESSAGE, LICENSE and ADAPTER become layers of their own.
#pragma once

#include <filesystem>
#include <functional>
#include <string>

#include "store/modelfile.h"
#include "store/reference.h"
#include "store/resolve.h"
#include "store/store.h"

namespace lokal::store {

// Relative paths in the Modelfile are taken from `base_dir`. FROM and ADAPTER may also name a blob
// of the store (`@sha256:<hex>`, as uploaded to /api/blobs); with StoreOnly access (the HTTP API)
// they may name nothing else on the file system. `status` gets one-line updates.
// Throws lokal::Error; the store then holds no new manifest.
ModelRef create_model(Store& store, const std::string& name, const Modelfile& mf,
                      const std::filesystem::path& base_dir, PathAccess access,
                      const std::function<void(const std::string&)>& status = {});

// A Modelfile that recreates the model (FROM its GGUF blob path).
std::string modelfile_for(const Store& store, const ModelRef& ref);

}  // namespace lokal::store
