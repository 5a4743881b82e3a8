// A model's GGUF header wherever the model is: a file, a stored model, or (before pulling it)
// a registry reference, read from the registry with Range requests.
#pragma once

#include <memory>
#include <string>

#include "gguf/gguf_file.h"

namespace lokal::cli {

struct ModelHeader {
    std::unique_ptr<gguf::File> file;
    std::string source;  // "file", "store" or "registry"
    uint64_t bytes_read = 0;  // registry: bytes of the blob read
};

// A file path or stored name first; a valid reference the store lacks is asked of its registry.
ModelHeader open_model_header(const std::string& name, bool insecure = false);

}  // namespace lokal::cli
