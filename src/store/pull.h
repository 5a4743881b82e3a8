// `lokal pull`: fetches a model from an Ollama-style registry (or a direct .gguf URL) into the
// store. Every blob is downloaded into blobs/sha256-<hex>-partial under an flock, resumed with
// HTTP Range after an interruption, retried with backoff on transient errors, checked against its
// sha256 and only then renamed into place; the manifest is written last.
// A large blob on a server that honours ranges is fetched in parallel parts (range_download.h),
// with per-part progress in a sidecar next to the partial file. A registry that answers 401 with
// a Bearer challenge gets a token from its realm (registry_auth.h), reused for the whole pull.
#pragma once

#include <cstdint>
#include <string>

#include "store/reference.h"
#include "store/store.h"

namespace lokal::store {

// Progress of a pull; the CLI draws it, the server will stream it. All callbacks run on the
// pulling thread, also during a multi-part download (its part threads only count bytes;
// layer_progress then reports the total of all parts, about every 100 ms).
class PullEvents {
  public:
    virtual ~PullEvents() = default;
    virtual void status(const std::string& /*message*/) {}
    // A blob starts (done > 0 when resuming or already present).
    virtual void layer_begin(const std::string& /*digest*/, uint64_t /*total*/, uint64_t /*done*/) {
    }
    virtual void layer_progress(const std::string& /*digest*/, uint64_t /*done*/,
                                uint64_t /*total*/) {}
    virtual void layer_end(const std::string& /*digest*/, uint64_t /*total*/) {}
    // A transient error; the download is retried after `delay_ms`.
    virtual void retry(const std::string& /*what*/, int /*attempt*/, int /*delay_ms*/) {}
};

struct PullOptions {
    int max_retries = 6;   // per request, reset whenever bytes arrive
    int backoff_ms = 500;  // doubled after each failure, at most 16x
    int parts = 4;         // parallel Range requests for a large blob (1: one stream)
    uint64_t part_min_bytes = 64ull << 20;  // blobs this large are fetched in parts
    // Plain http to the registry (any host, not only loopback): `lokal pull --insecure`.
    bool insecure = false;
    // LOKAL_PULL_RETRIES, LOKAL_PULL_BACKOFF_MS, LOKAL_PULL_PARTS and LOKAL_PULL_PART_MIN_BYTES
    // override the defaults. A registry token may be given in $LOKAL_REGISTRY_TOKEN.
    static PullOptions from_env();
};

// The registry base URL for a reference's host: $LOKAL_REGISTRY for registry.ollama.ai, an
// entry of $LOKAL_REGISTRY_HOSTS ("hf.co=http://127.0.0.1:8000,host2=https://...") for others,
// else https://<host> (http://<host> when insecure, which also allows plain http to it). Checked
// against the URL policy (http only to loopback, unless insecure).
std::string registry_url(const std::string& host, bool insecure = false);

// Pulls `ref_or_url` (a model reference or an http(s) URL of a .gguf file) and returns the
// name it was stored under. Throws lokal::Error; the store then holds no new manifest.
ModelRef pull(Store& store, const std::string& ref_or_url, PullEvents& events,
              const PullOptions& opts = PullOptions::from_env());

// A name for a model pulled from a URL: the file name without .gguf, lowercased, characters
// outside [a-z0-9._-] replaced by '-', tag latest.
ModelRef name_for_url(const std::string& url);

}  // namespace lokal::store
