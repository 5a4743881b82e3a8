// Parallel download of one blob in HTTP Range parts into its partial file. Each part runs on its
// own thread, pwrite()s at its offset, and retries with backoff like a single-stream download;
// the calling thread persists per-part progress to the sidecar (parts_file.h) every 100 ms and
// delivers all PullEvents callbacks itself, so events stay on the pulling thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>

#include "store/http.h"
#include "store/parts_file.h"
#include "store/pull.h"

namespace lokal::store {

// A GET of the blob with a byte range (the auth and URL are the caller's business).
using RangeGet = std::function<HttpResult(HttpRange range, const BodySink& sink)>;

// Thrown when the server answers a ranged request with the whole body (200): the caller falls
// back to a single stream.
struct RangesUnsupported : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct RangeJob {
    std::string label;  // digest, for messages and progress
    std::string where;  // "registry <url>", for the no-network message
    int fd = -1;
    std::filesystem::path partial;
    std::filesystem::path sidecar;
    RangeGet get;
    int max_retries = 6;
    int backoff_ms = 500;
};

// True when a "Range: bytes=0-0" request is answered 206 with the blob's size as total.
bool probe_ranges(const RangeGet& get, uint64_t size);

// Downloads every unfinished part of `plan` (updated in place), persisting progress in
// job.sidecar. Throws lokal::Error (progress so far stays persisted for a later resume, except
// on a full disk, which removes the partial file and sidecar) or RangesUnsupported.
void download_parts(const RangeJob& job, PartsPlan& plan, PullEvents& ev);

}  // namespace lokal::store
