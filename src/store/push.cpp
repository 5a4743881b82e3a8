#include "store/push.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <thread>

#include "base/error.h"
#include "store/http.h"
#include "store/registry_auth.h"

namespace lokal::store {

namespace {

// Where the model goes: the registry's base URL and the repository's URL under it.
struct Target {
    std::string base;  // https://host[:port]
    std::string repo;  // base + /v2/<ns>/<model>
    ModelRef ref;
    std::string where() const { return "registry " + base; }
};

// "HTTP 400 (provided digest did not match uploaded content)", or curl's message.
std::string answer(const HttpResult& r) {
    std::string msg = registry_error_message(r.error_body);
    return r.describe() + (msg.empty() ? "" : " (" + msg + ")");
}

[[noreturn]] void fail(const Target& t, const std::string& what, const HttpResult& r) {
    if (r.curl_code != 0) {
        throw Error("cannot reach " + t.where() + " to " + what + ": " + r.describe(),
                    ErrorKind::Io);
    }
    throw Error(t.where() + " refused to " + what + ": " + answer(r), ErrorKind::Io);
}

// Runs `request` until it succeeds, fails in a way a retry will not fix, or runs out of
// retries; returns the last result.
HttpResult with_retries(const std::string& what, const std::function<HttpResult()>& request,
                        PullEvents& ev, const PullOptions& opts) {
    for (int attempt = 1;; ++attempt) {
        HttpResult r = request();
        if (r.ok() || !r.transient() || r.no_network() || attempt > opts.max_retries) return r;
        int delay = opts.backoff_ms << std::min(attempt - 1, 4);
        ev.retry(what + ": " + r.describe(), attempt, delay);
        std::this_thread::sleep_for(std::chrono::milliseconds(delay));
    }
}

// A body that streams a stored blob, reporting progress as curl takes it.
HttpBody blob_body(const Store& store, const Layer& layer, PullEvents& ev) {
    const std::string path = store.blob_path(layer.digest).string();
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || static_cast<uint64_t>(st.st_size) != layer.size) {
        throw Error("blob " + layer.digest + " is missing from the store (or has the wrong size)",
                    ErrorKind::NotFound);
    }
    HttpBody body;
    body.size = layer.size;
    body.make_reader = [path, layer, &ev]() -> BodyReader {
        int raw = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (raw < 0) {
            throw Error("cannot read '" + path + "': " + std::strerror(errno), ErrorKind::Io);
        }
        auto fd = std::shared_ptr<int>(new int(raw), [](const int* p) {
            ::close(*p);
            delete p;
        });
        return [fd, layer, &ev, sent = uint64_t{0}](char* buf, size_t cap) mutable -> size_t {
            ssize_t got = 0;
            do {
                got = ::pread(*fd, buf, cap, static_cast<off_t>(sent));
            } while (got < 0 && errno == EINTR);
            if (got <= 0) return 0;
            sent += static_cast<uint64_t>(got);
            ev.layer_progress(layer.digest, sent, layer.size);
            return static_cast<size_t>(got);
        };
    };
    return body;
}

void push_blob(const Store& store, const Layer& layer, const Target& t, RegistryAuth& auth,
               PullEvents& ev, const PullOptions& opts) {
    const std::string blob_url = t.repo + "/blobs/" + layer.digest;
    HttpResult head = with_retries(
        "checking " + layer.digest, [&] { return auth.send("HEAD", blob_url, {}, HttpBody{}); },
        ev, opts);
    if (head.ok()) {
        ev.layer_begin(layer.digest, layer.size, layer.size);
        ev.layer_end(layer.digest, layer.size);
        return;
    }
    if (head.status != 404) fail(t, "say whether it has blob " + layer.digest, head);

    const HttpBody body = blob_body(store, layer, ev);
    ev.layer_begin(layer.digest, layer.size, 0);
    // One attempt is a fresh upload session and the whole blob: a monolithic upload cannot be
    // resumed part way.
    HttpResult last;
    for (int attempt = 1;; ++attempt) {
        const std::string uploads = t.repo + "/blobs/uploads/";
        HttpResult start = auth.send("POST", uploads, {}, HttpBody{});
        if (start.ok()) {
            std::string location = resolve_url(uploads, start.location);
            if (start.location.empty() || location.empty()) {
                throw Error(t.where() + " started an upload of " + layer.digest +
                                " without a usable Location",
                            ErrorKind::Io);
            }
            location += location.find('?') == std::string::npos ? '?' : '&';
            location += "digest=" + url_encode(layer.digest);
            last = auth.send("PUT", location, {"Content-Type: application/octet-stream"}, body);
            if (last.ok()) break;
        } else {
            last = start;
        }
        if (!last.transient() || last.no_network() || attempt > opts.max_retries) {
            fail(t, "take blob " + layer.digest, last);
        }
        int delay = opts.backoff_ms << std::min(attempt - 1, 4);
        ev.retry("upload of " + layer.digest + ": " + last.describe(), attempt, delay);
        std::this_thread::sleep_for(std::chrono::milliseconds(delay));
    }
    ev.layer_end(layer.digest, layer.size);
}

}  // namespace

void push(const Store& store, const std::string& name, PullEvents& ev, const PullOptions& opts) {
    const ModelRef ref = parse_ref(name);
    ev.status("retrieving manifest");
    const std::optional<std::string> bytes = store.read_manifest_bytes(ref);
    if (!bytes) throw Error("model '" + name + "' not found", ErrorKind::NotFound);
    const Manifest m = Manifest::parse(*bytes);

    Target t;
    t.base = registry_url(ref.host, opts.insecure);
    t.repo = t.base + "/v2/" + ref.ns + "/" + ref.model;
    t.ref = ref;
    const char* env_token = std::getenv("LOKAL_REGISTRY_TOKEN");
    RegistryAuth auth(t.base, "'" + ref.display() + "'", env_token ? env_token : "",
                      opts.max_retries, opts.backoff_ms);
    auth.set_scope("repository:" + ref.ns + "/" + ref.model + ":push,pull");

    for (const Layer& l : m.blobs()) push_blob(store, l, t, auth, ev, opts);

    ev.status("pushing manifest");
    const std::string content_type =
        "Content-Type: " + (m.media_type.empty() ? std::string(media::kManifest) : m.media_type);
    HttpResult r = with_retries(
        "pushing manifest",
        [&] {
            return auth.send("PUT", t.repo + "/manifests/" + ref.tag, {content_type},
                             string_body(*bytes));
        },
        ev, opts);
    if (!r.ok()) fail(t, "take the manifest of '" + name + "'", r);
    ev.status("success");
}

}  // namespace lokal::store
