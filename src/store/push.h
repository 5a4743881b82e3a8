// `lokal push`: uploads a stored model to an OCI distribution registry, as Ollama does. For each
// blob (config included): HEAD /v2/<ns>/<model>/blobs/<digest>, skipped when the registry has it;
// else POST /v2/<ns>/<model>/blobs/uploads/ (202 with a Location) and one monolithic
// PUT <location>?digest=<digest> of the whole blob (201). Then the manifest's exact bytes are
// PUT to /v2/<ns>/<model>/manifests/<tag>. A 401 with a Bearer challenge gets a token for
// "repository:<ns>/<model>:push,pull" (registry_auth.h). The store is only read.
#pragma once

#include <string>

#include "store/pull.h"
#include "store/store.h"

namespace lokal::store {

// Pushes the stored model `name` to the registry of its host (registry_url: $LOKAL_REGISTRY,
// $LOKAL_REGISTRY_HOSTS, or https://<host>), reporting progress through the pull's events
// (layer_* per blob; a blob the registry already has begins and ends complete) and using the
// pull's options (insecure, max_retries and backoff_ms for transient failures). Throws
// lokal::Error: NotFound when the model or one of its blobs is not in the store, Io when the
// registry cannot be reached or refuses (its HTTP status and error message).
void push(const Store& store, const std::string& name, PullEvents& events,
          const PullOptions& opts = PullOptions::from_env());

}  // namespace lokal::store
