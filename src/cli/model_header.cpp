#include "cli/model_header.h"

#include <cstdlib>
#include <filesystem>

#include "base/error.h"
#include "store/reference.h"
#include "store/remote_header.h"
#include "store/resolve.h"

namespace lokal::cli {

ModelHeader open_model_header(const std::string& name, bool insecure) {
    ModelHeader h;
    if (std::filesystem::is_regular_file(name)) {
        h.file = gguf::File::open(name);
        h.source = "file";
        return h;
    }
    try {
        h.file = gguf::File::open(store::resolve_model(name));
        h.source = "store";
        return h;
    } catch (const Error& e) {
        if (e.kind() != ErrorKind::NotFound || !store::is_valid_ref(name)) throw;
    }
    // LOKAL_FIT_FIRST_READ: bytes of the first Range request (tests make it small).
    uint64_t first_read = 4ull << 20;
    if (const char* v = std::getenv("LOKAL_FIT_FIRST_READ"); v && std::atoll(v) > 0) {
        first_read = (uint64_t)std::atoll(v);
    }
    store::RemoteHeader r = store::fetch_remote_header(name, insecure, first_read);
    h.file = std::move(r.file);
    h.source = "registry";
    h.bytes_read = r.bytes_read;
    return h;
}

}  // namespace lokal::cli
