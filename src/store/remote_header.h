// A registry model's GGUF header before pulling it: the manifest, then the first bytes of the
// model blob with HTTP Range requests (more when the header is longer), so `lokal fit` and
// `lokal show` can size a model without downloading its weights.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "gguf/gguf_file.h"
#include "store/store.h"

namespace lokal::store {

struct RemoteHeader {
    Manifest manifest;
    std::unique_ptr<gguf::File> file;  // header only: tensors have no data
    uint64_t bytes_read = 0;           // of the model blob
};

// `ref` as `lokal pull` reads it (registry from $LOKAL_REGISTRY and friends, insecure for plain
// http). first_read: bytes asked for first; doubled until the header parses or the blob ends
// (at most max_read). Throws lokal::Error (NotFound for a model the registry does not have;
// Io when the registry ignores Range and sends the whole blob).
RemoteHeader fetch_remote_header(const std::string& ref, bool insecure = false,
                                 uint64_t first_read = 4ull << 20, uint64_t max_read = 512ull << 20);

}  // namespace lokal::store
