#include "store/remote_header.h"

#include <algorithm>
#include <cstdlib>
#include <vector>

#include "base/error.h"
#include "store/pull.h"
#include "store/reference.h"
#include "store/registry_auth.h"

namespace lokal::store {
namespace {

constexpr size_t kMaxManifestBytes = 4 << 20;
const char* const kAcceptManifest =
    "Accept: application/vnd.docker.distribution.manifest.v2+json, "
    "application/vnd.oci.image.manifest.v1+json";

// Bytes [from, to) of url appended to buf; a server that ignores Range and streams the whole
// blob from 0 is cut off once it has sent them.
void read_range(RegistryAuth& auth, const std::string& url, uint64_t from, uint64_t to,
                std::vector<uint8_t>& buf, const std::string& where) {
    uint64_t skip = 0;
    bool whole = false;
    const HttpResult r = auth.get(url, {}, HttpRange{from, (int64_t)to - 1},
                                  [&](const HttpResult& head, const char* p, size_t n) {
                                      if (head.status == 200 && from > 0 && !whole) {
                                          whole = true;  // the blob from byte 0: skip to `from`
                                          skip = from;
                                      }
                                      const size_t drop = (size_t)std::min<uint64_t>(skip, n);
                                      skip -= drop;
                                      const uint64_t room = to - buf.size();
                                      const size_t take = (size_t)std::min<uint64_t>(n - drop, room);
                                      buf.insert(buf.end(), p + drop, p + drop + take);
                                      return buf.size() < to;
                                  });
    if (buf.size() >= to) return;  // enough arrived (an aborted full-body reply included)
    if (r.no_network() || r.curl_code != 0) throw Error(where + ": " + r.describe(), ErrorKind::Io);
    throw Error(where + " answered " + r.describe() + " for bytes " + std::to_string(from) + "-" +
                    std::to_string(to - 1) + " of the model",
                ErrorKind::Io);
}

}  // namespace

RemoteHeader fetch_remote_header(const std::string& ref_text, bool insecure, uint64_t first_read,
                                 uint64_t max_read) {
    const ModelRef ref = parse_ref(ref_text);
    const std::string base = registry_url(ref.host, insecure);
    const std::string where = "registry " + base;
    const char* env_token = std::getenv("LOKAL_REGISTRY_TOKEN");
    RegistryAuth auth(base, "'" + ref.display() + "'", env_token ? env_token : "", 2, 200);

    std::string body;
    const std::string manifest_url =
        base + "/v2/" + ref.ns + "/" + ref.model + "/manifests/" + ref.tag;
    const HttpResult r = auth.get(manifest_url, {kAcceptManifest}, HttpRange{},
                                  [&](const HttpResult&, const char* p, size_t n) {
                                      body.append(p, n);
                                      return body.size() <= kMaxManifestBytes;
                                  });
    if (r.status == 404) {
        throw Error("model '" + ref_text + "' not found in " + where, ErrorKind::NotFound);
    }
    if (!r.ok()) {
        throw Error(where + " answered " + r.describe() + " for the manifest of '" + ref_text + "'",
                    ErrorKind::Io);
    }
    RemoteHeader out;
    try {
        out.manifest = Manifest::parse(body);
    } catch (const Error& e) {
        throw Error(where + " sent a bad manifest for '" + ref_text + "': " + e.what(),
                    ErrorKind::Io);
    }
    const Layer* model = out.manifest.find(media::kModel);
    if (!model) {
        throw Error("the manifest of '" + ref_text + "' has no model layer", ErrorKind::Unsupported);
    }
    const std::string blob_url =
        base + "/v2/" + ref.ns + "/" + ref.model + "/blobs/" + model->digest;
    std::vector<uint8_t> buf;
    uint64_t want = std::min(first_read, model->size);
    for (;;) {
        read_range(auth, blob_url, buf.size(), want, buf, where);
        try {
            out.file = gguf::File::parse_header(buf.data(), buf.size(), model->size);
            break;
        } catch (const Error&) {
            // The header may run past what was read: read twice as much, unless that was all.
            if (want >= model->size || want >= max_read) throw;
            want = std::min({want * 2, model->size, max_read});
        }
    }
    out.bytes_read = buf.size();
    return out;
}

}  // namespace lokal::store
