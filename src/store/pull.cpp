#include "store/pull.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "base/error.h"
#include "store/http.h"
#include "store/parts_file.h"
#include "store/range_download.h"
#include "store/registry_auth.h"
#include "store/sha256.h"

namespace lokal::store {

namespace fs = std::filesystem;

namespace {

constexpr size_t kMaxManifestBytes = 4 << 20;
const char* kAcceptManifest =
    "Accept: application/vnd.docker.distribution.manifest.v2+json, "
    "application/vnd.oci.image.manifest.v1+json";

int env_int(const char* name, int fallback) {
    const char* v = std::getenv(name);
    if (!v || !*v) return fallback;
    char* end = nullptr;
    long n = std::strtol(v, &end, 10);
    if (*end || n < 0 || n > 1000000) throw Error(std::string("bad value for ") + name);
    return static_cast<int>(n);
}

uint64_t env_u64(const char* name, uint64_t fallback) {
    const char* v = std::getenv(name);
    if (!v || !*v) return fallback;
    char* end = nullptr;
    errno = 0;
    unsigned long long n = std::strtoull(v, &end, 10);
    if (*end || *v == '-' || errno == ERANGE) throw Error(std::string("bad value for ") + name);
    return static_cast<uint64_t>(n);
}

std::string no_network_hint(const std::string& where, const HttpResult& r) {
    return "cannot reach " + where + " (" + r.describe() +
           "): no network? Models already in the store still work offline";
}

// Opens `path` and takes an exclusive flock on it. Another process may rename or delete the
// file between our open and our lock; then the inode we hold is no longer the path's, so we
// start over.
int open_locked(const fs::path& path, PullEvents& ev, const std::string& what) {
    for (;;) {
        int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) {
            throw Error("cannot create '" + path.string() + "': " + std::strerror(errno),
                        ErrorKind::Io);
        }
        if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
            if (errno != EWOULDBLOCK) {
                ::close(fd);
                throw Error("cannot lock '" + path.string() + "': " + std::strerror(errno));
            }
            ev.status("waiting for another lokal process downloading " + what);
            while (::flock(fd, LOCK_EX) != 0) {
                if (errno != EINTR) {
                    ::close(fd);
                    throw Error("cannot lock '" + path.string() + "': " + std::strerror(errno));
                }
            }
        }
        struct stat a {
        }, b{};
        if (::fstat(fd, &a) == 0 && ::stat(path.c_str(), &b) == 0 && a.st_ino == b.st_ino &&
            a.st_dev == b.st_dev) {
            return fd;
        }
        ::close(fd);
    }
}

// On a failed download: a partial file with nothing in it (a 404, a refused connection) is
// removed, as is one the failure made worthless (`keep` false); one with bytes to resume from
// stays. Called with the file still locked.
void drop_partial_unless_resumable(int fd, const fs::path& partial, bool keep) {
    struct stat st {};
    if (!keep || (::fstat(fd, &st) == 0 && st.st_size == 0)) {
        ::unlink(partial.c_str());
        remove_parts_file(parts_path(partial));
    }
}

// Hashes the first n bytes of fd.
void hash_prefix(int fd, uint64_t n, Sha256& h, const fs::path& path) {
    std::vector<char> buf(1 << 20);
    uint64_t off = 0;
    while (off < n) {
        size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), n - off));
        ssize_t got = ::pread(fd, buf.data(), want, static_cast<off_t>(off));
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) throw Error("cannot read '" + path.string() + "'", ErrorKind::Io);
        h.update(buf.data(), static_cast<size_t>(got));
        off += static_cast<uint64_t>(got);
    }
}

void truncate_to_zero(int fd, Sha256& h, uint64_t& have) {
    if (::ftruncate(fd, 0) != 0)
        throw Error(std::string("cannot truncate: ") + std::strerror(errno), ErrorKind::Io);
    h.hex();  // resets
    have = 0;
}

struct Download {
    std::string url;
    std::string label;  // digest or file name, for messages and progress
    std::string where;  // registry or host, for the no-network message
    int fd = -1;
    fs::path path;
    int64_t expected = -1;  // -1: unknown
    RangeGet get;           // GET of `url` (with the registry's token, when it has one)
};

// Appends the rest of `d.url` to d.fd (which holds `have` bytes, already hashed into h),
// resuming with Range and retrying transient failures. Returns the final size.
uint64_t download(const Download& d, Sha256& h, uint64_t have, PullEvents& ev,
                  const PullOptions& opts) {
    int attempt = 0;
    uint64_t total = d.expected >= 0 ? static_cast<uint64_t>(d.expected) : 0;
    for (;;) {
        if (d.expected >= 0 && have == total) return have;
        const uint64_t start = have;
        bool first = true, bad_range = false, too_big = false;
        int write_errno = 0;
        auto sink = [&](const HttpResult& head, const char* data, size_t n) {
            if (first) {
                first = false;
                if (start > 0 && head.status == 206) {
                    if (!head.has_content_range || head.range_start != start) {
                        bad_range = true;
                        return false;
                    }
                } else if (start > 0) {
                    truncate_to_zero(d.fd, h, have);  // the server ignored the Range
                }
                if (d.expected < 0) {
                    if (head.status == 206 && head.range_total >= 0) {
                        total = static_cast<uint64_t>(head.range_total);
                    } else if (head.content_length >= 0) {
                        total = have + static_cast<uint64_t>(head.content_length);
                    }
                }
            }
            if (d.expected >= 0 && have + n > total) {
                too_big = true;
                return false;
            }
            size_t done = 0;
            while (done < n) {
                ssize_t w = ::pwrite(d.fd, data + done, n - done, static_cast<off_t>(have + done));
                if (w < 0 && errno == EINTR) continue;
                if (w < 0) {
                    write_errno = errno;
                    return false;
                }
                done += static_cast<size_t>(w);
            }
            h.update(data, n);
            have += n;
            ev.layer_progress(d.label, have, total);
            return true;
        };
        HttpResult r = d.get(HttpRange{start, -1}, sink);
        if (write_errno) {
            if (write_errno == ENOSPC || write_errno == EDQUOT) {
                ::ftruncate(d.fd, 0);
                ::unlink(d.path.c_str());
                throw Error("disk full while downloading " + d.label +
                                "; the partial download was removed and the store is unchanged",
                            ErrorKind::Io);
            }
            throw Error("cannot write '" + d.path.string() + "': " + std::strerror(write_errno),
                        ErrorKind::Io);
        }
        if (too_big) {
            truncate_to_zero(d.fd, h, have);
            throw Error("the registry sent more than the " + std::to_string(total) + " bytes of " +
                            d.label + "; download discarded",
                        ErrorKind::Io);
        }
        std::string problem;
        if (bad_range) {
            truncate_to_zero(d.fd, h, have);
            problem = "server answered a resume with the wrong range";
        } else if (r.ok()) {
            if (d.expected < 0) {
                bool short_body = r.content_length >= 0 && r.status != 206 &&
                                  have < static_cast<uint64_t>(r.content_length);
                if (!short_body) return have;
                problem = "connection closed early";
            } else if (have == total) {
                return have;
            } else {
                problem = "connection closed early";
            }
        } else if (r.status == 416 && start > 0) {
            truncate_to_zero(d.fd, h, have);
            problem = "server refused the resume range";
        } else if (!r.transient()) {
            if (r.no_network()) throw Error(no_network_hint(d.where, r), ErrorKind::Io);
            if (r.status == 404)
                throw Error(d.label + " not found at " + d.url + " (HTTP 404)",
                            ErrorKind::NotFound);
            throw Error("download of " + d.label + " failed: " + r.describe(), ErrorKind::Io);
        } else {
            problem = r.describe();
        }
        if (have > start) attempt = 0;  // progress was made: a fresh set of retries
        if (++attempt > opts.max_retries) {
            std::string msg = "download of " + d.label + " failed after " +
                              std::to_string(opts.max_retries + 1) + " attempts: " + problem;
            if (r.curl_code != 0 && have == 0) msg = no_network_hint(d.where, r);
            throw Error(msg + "; run the same pull again to resume", ErrorKind::Io);
        }
        int delay = opts.backoff_ms << std::min(attempt - 1, 4);
        ev.retry(d.label + ": " + problem, attempt, delay);
        std::this_thread::sleep_for(std::chrono::milliseconds(delay));
    }
}

// GETs a small document (a manifest) with retries.
std::string fetch_small(RegistryAuth& auth, const std::string& url,
                        const std::vector<std::string>& headers, const std::string& what,
                        const std::string& where, const PullOptions& opts, PullEvents& ev,
                        long* status_out) {
    for (int attempt = 1;; ++attempt) {
        std::string body;
        bool too_big = false;
        HttpResult r =
            auth.get(url, headers, HttpRange{}, [&](const HttpResult&, const char* p, size_t n) {
                if (body.size() + n > kMaxManifestBytes) {
                    too_big = true;
                    return false;
                }
                body.append(p, n);
                return true;
            });
        if (too_big)
            throw Error(std::string(what).append(" from ").append(where).append(" is too large"),
                        ErrorKind::Io);
        *status_out = r.status;
        if (r.ok()) return body;
        if (r.no_network()) throw Error(no_network_hint(where, r), ErrorKind::Io);
        if (!r.transient() || attempt > opts.max_retries) {
            if (r.curl_code != 0) throw Error(no_network_hint(where, r), ErrorKind::Io);
            return {};
        }
        int delay = opts.backoff_ms << std::min(attempt - 1, 4);
        ev.retry(what + ": " + r.describe(), attempt, delay);
        std::this_thread::sleep_for(std::chrono::milliseconds(delay));
    }
}

// The saved per-part progress of a multi-part download, if it is usable: a sidecar that does not
// parse, or claims bytes beyond the partial file's end, is discarded with the partial file.
std::optional<PartsPlan> resume_plan(int fd, const fs::path& sidecar, uint64_t size, uint64_t& have,
                                     PullEvents& ev, const std::string& label) {
    std::error_code ec;
    if (!fs::exists(sidecar, ec)) return std::nullopt;
    std::optional<PartsPlan> plan = read_parts_file(sidecar, size);
    if (plan) {
        for (const Part& p : plan->parts) {
            if (p.done > 0 && p.start + p.done > have) plan.reset();
            if (!plan) break;
        }
    }
    if (!plan) {
        ev.status("discarding the unreadable download state of " + label + "; starting over");
        Sha256 h;
        truncate_to_zero(fd, h, have);
        remove_parts_file(sidecar);
    }
    return plan;
}

void fetch_blob(Store& store, const std::string& base, const ModelRef& ref, const Layer& layer,
                RegistryAuth& auth, PullEvents& ev, const PullOptions& opts) {
    if (store.has_blob(layer.digest)) {
        ev.layer_begin(layer.digest, layer.size, layer.size);
        ev.layer_end(layer.digest, layer.size);
        return;
    }
    std::error_code ec;
    fs::create_directories(store.blobs_dir(), ec);
    if (ec)
        throw Error("cannot create '" + store.blobs_dir().string() + "': " + ec.message(),
                    ErrorKind::Io);
    fs::path partial = store.blob_path(layer.digest);
    partial += "-partial";
    const fs::path sidecar = parts_path(partial);
    int fd = open_locked(partial, ev, layer.digest);
    try {
        if (store.has_blob(layer.digest)) {  // another process finished it while we waited
            ::unlink(partial.c_str());
            remove_parts_file(sidecar);
            ::close(fd);
            ev.layer_begin(layer.digest, layer.size, layer.size);
            ev.layer_end(layer.digest, layer.size);
            return;
        }
        const std::string url = base + "/v2/" + ref.ns + "/" + ref.model + "/blobs/" + layer.digest;
        RangeGet get = [&](HttpRange range, const BodySink& sink) {
            return auth.get(url, {}, range, sink);
        };
        Sha256 h;
        struct stat st {};
        ::fstat(fd, &st);
        uint64_t have = static_cast<uint64_t>(st.st_size);
        if (have > layer.size) truncate_to_zero(fd, h, have);

        // Multi-part when resuming one, or for a fresh large blob on a server with ranges.
        std::optional<PartsPlan> plan =
            resume_plan(fd, sidecar, layer.size, have, ev, layer.digest);
        if (!plan && have == 0 && opts.parts > 1 && layer.size >= 2 &&
            layer.size >= opts.part_min_bytes && probe_ranges(get, layer.size)) {
            plan = plan_parts(layer.size, opts.parts);
            write_parts_file(sidecar, *plan);
        }
        bool begun = false, hashed = false;
        if (plan) {
            ev.layer_begin(layer.digest, layer.size, plan->done_bytes());
            begun = true;
            RangeJob job;
            job.label = layer.digest;
            job.where = "registry " + base;
            job.fd = fd;
            job.partial = partial;
            job.sidecar = sidecar;
            job.get = get;
            job.max_retries = opts.max_retries;
            job.backoff_ms = opts.backoff_ms;
            try {
                download_parts(job, *plan, ev);
                hash_prefix(fd, layer.size, h, partial);
                hashed = true;
            } catch (const RangesUnsupported&) {
                ev.status("the server stopped honouring ranges; downloading " + layer.digest +
                          " in one stream");
                truncate_to_zero(fd, h, have);
                remove_parts_file(sidecar);
            }
        }
        if (!hashed) {
            hash_prefix(fd, have, h, partial);
            if (!begun) ev.layer_begin(layer.digest, layer.size, have);
            Download d;
            d.url = url;
            d.label = layer.digest;
            d.where = "registry " + base;
            d.fd = fd;
            d.path = partial;
            d.expected = static_cast<int64_t>(layer.size);
            d.get = get;
            have = download(d, h, have, ev, opts);
        }
        std::string got = "sha256:" + h.hex();
        if (got != layer.digest) {
            ::unlink(partial.c_str());
            remove_parts_file(sidecar);
            throw Error("sha256 mismatch for " + layer.digest + " from " + base + ": got " + got +
                            "; the download was discarded and the store is unchanged",
                        ErrorKind::Io);
        }
        // The sidecar goes first: a crash before the rename leaves a complete partial file,
        // which the next pull verifies without downloading.
        remove_parts_file(sidecar);
        store.commit_blob(partial, layer.digest);
        ::close(fd);
        ev.layer_end(layer.digest, layer.size);
    } catch (...) {
        drop_partial_unless_resumable(fd, partial, true);
        ::close(fd);
        throw;
    }
}

ModelRef pull_url(Store& store, const std::string& url, PullEvents& ev, const PullOptions& opts) {
    check_url_allowed(url);
    ModelRef name = name_for_url(url);
    std::error_code ec;
    fs::create_directories(store.blobs_dir(), ec);
    if (ec) throw Error("cannot create '" + store.blobs_dir().string() + "': " + ec.message());
    fs::path partial = store.blobs_dir() / ("url-" + sha256_hex(url).substr(0, 24) + "-partial");
    std::string label = url.substr(url.rfind('/') + 1);
    int fd = open_locked(partial, ev, label);
    Layer model;
    try {
        Sha256 h;
        struct stat st {};
        ::fstat(fd, &st);
        uint64_t have = static_cast<uint64_t>(st.st_size);
        hash_prefix(fd, have, h, partial);
        ev.layer_begin(label, 0, have);
        Download d;
        d.url = url;
        d.label = label;
        d.where = url;
        d.fd = fd;
        d.path = partial;
        d.get = [&url](HttpRange range, const BodySink& sink) {
            return http_get(url, {}, range, sink);
        };
        have = download(d, h, have, ev, opts);
        char magic[4] = {0};
        if (have < 4 || ::pread(fd, magic, 4, 0) != 4 || std::memcmp(magic, "GGUF", 4) != 0) {
            ::unlink(partial.c_str());
            throw Error("'" + url + "' is not a GGUF file; nothing was stored");
        }
        model = Layer{media::kModel, "sha256:" + h.hex(), have};
        if (store.has_blob(model.digest)) {
            ::unlink(partial.c_str());
        } else {
            store.commit_blob(partial, model.digest);
        }
        ::close(fd);
        ev.layer_end(label, have);
    } catch (const Error& e) {
        // A URL that is not there any more leaves nothing behind.
        drop_partial_unless_resumable(fd, partial, e.kind() != ErrorKind::NotFound);
        ::close(fd);
        throw;
    } catch (...) {
        drop_partial_unless_resumable(fd, partial, true);
        ::close(fd);
        throw;
    }
    Manifest m;
    m.config = store.put_blob(media::kConfig, R"({"model_format":"gguf"})");
    m.layers.push_back(model);
    ev.status("writing manifest");
    store.write_manifest(name, m.to_json());
    ev.status("success");
    return name;
}

}  // namespace

PullOptions PullOptions::from_env() {
    PullOptions o;
    o.max_retries = env_int("LOKAL_PULL_RETRIES", o.max_retries);
    o.backoff_ms = env_int("LOKAL_PULL_BACKOFF_MS", o.backoff_ms);
    o.parts = env_int("LOKAL_PULL_PARTS", o.parts);
    if (o.parts < 1 || o.parts > kMaxParts) {
        throw Error("bad value for LOKAL_PULL_PARTS (1 to " + std::to_string(kMaxParts) + ")");
    }
    o.part_min_bytes = env_u64("LOKAL_PULL_PART_MIN_BYTES", o.part_min_bytes);
    return o;
}

std::string registry_url(const std::string& host, bool insecure) {
    std::string url;
    if (host == kDefaultHost) {
        if (const char* env = std::getenv("LOKAL_REGISTRY"); env && *env) url = env;
    }
    if (const char* env = std::getenv("LOKAL_REGISTRY_HOSTS"); url.empty() && env) {
        std::string list = env;
        size_t pos = 0;
        while (pos <= list.size()) {
            size_t end = list.find(',', pos);
            if (end == std::string::npos) end = list.size();
            std::string item = list.substr(pos, end - pos);
            if (auto eq = item.find('='); eq != std::string::npos && item.substr(0, eq) == host) {
                url = item.substr(eq + 1);
                break;
            }
            pos = end + 1;
        }
    }
    if (url.empty()) url = (insecure ? "http://" : "https://") + host;
    while (url.ends_with("/")) url.pop_back();
    if (insecure) allow_plain_http(url_origin(url));
    check_url_allowed(url);
    return url;
}

ModelRef name_for_url(const std::string& url) {
    std::string file = url;
    if (auto q = file.find_first_of("?#"); q != std::string::npos) file.resize(q);
    file = file.substr(file.rfind('/') + 1);
    if (file.size() > 5 && (file.ends_with(".gguf") || file.ends_with(".GGUF"))) {
        file.resize(file.size() - 5);
    }
    std::string name;
    for (char c : file) {
        char l = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
        bool ok =
            (l >= 'a' && l <= 'z') || (l >= '0' && l <= '9') || l == '_' || l == '-' || l == '.';
        name += ok ? l : '-';
    }
    while (name.find("..") != std::string::npos) name.replace(name.find(".."), 2, "-");
    while (!name.empty() && (name[0] == '.' || name[0] == '-')) name.erase(0, 1);
    if (name.size() > 100) name.resize(100);
    if (name.empty()) name = "model";
    return parse_ref(name);
}

ModelRef pull(Store& store, const std::string& ref_or_url, PullEvents& ev,
              const PullOptions& opts) {
    if (ref_or_url.starts_with("https://") || ref_or_url.starts_with("http://")) {
        return pull_url(store, ref_or_url, ev, opts);
    }
    ModelRef ref = parse_ref(ref_or_url);
    std::string base = registry_url(ref.host, opts.insecure);
    const char* env_token = std::getenv("LOKAL_REGISTRY_TOKEN");
    RegistryAuth auth(base, "'" + ref.display() + "'", env_token ? env_token : "", opts.max_retries,
                      opts.backoff_ms);
    ev.status("pulling manifest");
    std::string url = base + "/v2/" + ref.ns + "/" + ref.model + "/manifests/" + ref.tag;
    long status = 0;
    std::string body = fetch_small(auth, url, {kAcceptManifest}, "manifest of " + ref.display(),
                                   "registry " + base, opts, ev, &status);
    if (status == 404) {
        throw Error("model '" + ref_or_url + "' not found in registry " + base,
                    ErrorKind::NotFound);
    }
    if (status < 200 || status >= 300) {
        throw Error("registry " + base + " answered HTTP " + std::to_string(status) +
                        " for the manifest of '" + ref_or_url + "'",
                    ErrorKind::Io);
    }
    Manifest m;
    try {
        m = Manifest::parse(body);
    } catch (const Error& e) {
        throw Error(
            "registry " + base + " sent a bad manifest for '" + ref_or_url + "': " + e.what(),
            ErrorKind::Io);
    }
    if (!m.find(media::kModel)) {
        throw Error("the manifest of '" + ref_or_url + "' has no model layer",
                    ErrorKind::Unsupported);
    }
    // The layers first and the config last: a pull that fails on a layer leaves no config
    // behind (a finished layer stays, like a partial one, for the next try to reuse).
    for (const Layer& l : m.layers) fetch_blob(store, base, ref, l, auth, ev, opts);
    const bool had_config = !m.config || store.has_blob(m.config->digest);
    if (m.config) fetch_blob(store, base, ref, *m.config, auth, ev, opts);
    ev.status("writing manifest");
    try {
        store.write_manifest(ref, body);
    } catch (...) {
        if (!had_config) store.remove_unreferenced({*m.config});
        throw;
    }
    ev.status("success");
    return ref;
}

}  // namespace lokal::store
