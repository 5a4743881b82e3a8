#include "store/store.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "base/error.h"
#include "store/sha256.h"

namespace lokal::store {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string errno_message(const std::string& what, const fs::path& path, int e) {
    if (e == ENOSPC || e == EDQUOT) {
        return "disk full while writing '" + path.string() + "'; nothing was changed";
    }
    return what + " '" + path.string() + "': " + std::strerror(e);
}

void write_all(int fd, const char* p, size_t n, const fs::path& path) {
    while (n > 0) {
        ssize_t w = ::write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) throw Error(errno_message("cannot write", path, errno), ErrorKind::Io);
        p += w;
        n -= static_cast<size_t>(w);
    }
}

std::string unique_suffix() {
    static std::atomic<uint64_t> counter{0};
    auto now = std::chrono::steady_clock::now().time_since_epoch().count();
    std::ostringstream s;
    s << getpid() << "-" << std::hex << (static_cast<uint64_t>(now) ^ (counter++ << 40));
    return s.str();
}

Layer layer_from_json(const json& j, const char* where) {
    if (!j.is_object())
        throw Error(std::string("malformed manifest: ") + where + " is not an object");
    Layer l;
    auto mt = j.find("mediaType");
    auto dg = j.find("digest");
    auto sz = j.find("size");
    if (mt == j.end() || !mt->is_string()) {
        throw Error(std::string("malformed manifest: ") + where + " has no mediaType");
    }
    if (dg == j.end() || !dg->is_string() || !is_valid_digest(dg->get<std::string>())) {
        throw Error(std::string("malformed manifest: ") + where + " has no valid sha256 digest");
    }
    if (sz == j.end() || !sz->is_number_integer() || sz->get<int64_t>() < 0) {
        throw Error(std::string("malformed manifest: ") + where + " has no valid size");
    }
    l.media_type = mt->get<std::string>();
    l.digest = dg->get<std::string>();
    l.size = sz->get<uint64_t>();
    return l;
}

json layer_to_json(const Layer& l) {
    return json{{"mediaType", l.media_type}, {"digest", l.digest}, {"size", l.size}};
}

// Names match ignoring case, as in Ollama: the entry of `dir` that equals `name` but for case
// (the exact one first), else `name` itself, for a new entry. Existing manifests keep their
// spelling on disk.
std::string existing_entry_ignoring_case(const fs::path& dir, const std::string& name) {
    std::error_code ec;
    if (fs::exists(dir / name, ec)) return name;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        std::string found = entry.path().filename().string();
        if (found.size() == name.size() &&
            strncasecmp(found.c_str(), name.c_str(), name.size()) == 0) {
            return found;
        }
    }
    return name;
}

}  // namespace

// ---- Manifest ------------------------------------------------------------------------------

std::vector<Layer> Manifest::blobs() const {
    std::vector<Layer> out;
    if (config) out.push_back(*config);
    out.insert(out.end(), layers.begin(), layers.end());
    return out;
}

uint64_t Manifest::total_size() const {
    uint64_t n = 0;
    for (const Layer& l : blobs()) n += l.size;
    return n;
}

const Layer* Manifest::find(std::string_view type) const {
    for (const Layer& l : layers) {
        if (l.media_type == type) return &l;
    }
    return nullptr;
}

std::string Manifest::to_json() const {
    json j;
    j["schemaVersion"] = schema_version;
    j["mediaType"] = media_type;
    if (config) j["config"] = layer_to_json(*config);
    j["layers"] = json::array();
    for (const Layer& l : layers) j["layers"].push_back(layer_to_json(l));
    return j.dump();
}

Manifest Manifest::parse(std::string_view text) {
    json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) throw Error("malformed manifest: not a JSON object");
    Manifest m;
    if (auto v = j.find("schemaVersion"); v != j.end() && v->is_number_integer()) {
        m.schema_version = v->get<int>();
    }
    if (m.schema_version != 2) {
        throw Error("unsupported manifest schemaVersion " + std::to_string(m.schema_version));
    }
    if (auto v = j.find("mediaType"); v != j.end() && v->is_string()) {
        m.media_type = v->get<std::string>();
    }
    if (auto v = j.find("config"); v != j.end() && !v->is_null()) {
        m.config = layer_from_json(*v, "config");
    }
    auto layers = j.find("layers");
    if (layers == j.end() || !layers->is_array()) throw Error("malformed manifest: no layers");
    for (size_t i = 0; i < layers->size(); ++i) {
        std::string where = "layer " + std::to_string(i);
        m.layers.push_back(layer_from_json((*layers)[i], where.c_str()));
    }
    return m;
}

// ---- files ---------------------------------------------------------------------------------

void sync_dir(const fs::path& dir) {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    ::fsync(fd);
    ::close(fd);
}

void write_file_atomic(const fs::path& path, std::string_view data) {
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    if (ec)
        throw Error("cannot create '" + path.parent_path().string() + "': " + ec.message(),
                    ErrorKind::Io);
    fs::path tmp =
        path.parent_path() / ("." + path.filename().string() + ".tmp-" + unique_suffix());
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) throw Error(errno_message("cannot create", tmp, errno), ErrorKind::Io);
    try {
        write_all(fd, data.data(), data.size(), tmp);
        if (::fsync(fd) != 0) throw Error(errno_message("cannot flush", tmp, errno), ErrorKind::Io);
    } catch (...) {
        ::close(fd);
        ::unlink(tmp.c_str());
        throw;
    }
    ::close(fd);
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        int e = errno;
        ::unlink(tmp.c_str());
        throw Error(errno_message("cannot rename into", path, e), ErrorKind::Io);
    }
    sync_dir(path.parent_path());
}

// ---- Store ---------------------------------------------------------------------------------

Store::Store(fs::path root) : root_(std::move(root)) {}

fs::path Store::default_root() {
    // OLLAMA_MODELS as a fallback: the layout is Ollama's, so its models are ours to run too.
    for (const char* name : {"LOKAL_MODELS", "OLLAMA_MODELS"}) {
        if (const char* env = std::getenv(name); env && *env) return fs::path(env);
    }
    const char* home = std::getenv("HOME");
    if (!home || !*home) {
        throw Error("neither LOKAL_MODELS (OLLAMA_MODELS) nor HOME is set; cannot find the store");
    }
    return fs::path(home) / ".lokal" / "models";
}

Store Store::open_default() {
    return Store(default_root());
}

fs::path Store::blob_path(std::string_view digest) const {
    if (!is_valid_digest(digest)) throw Error("invalid digest '" + std::string(digest) + "'");
    return blobs_dir() / ("sha256-" + std::string(digest.substr(7)));
}

bool Store::has_blob(std::string_view digest) const {
    std::error_code ec;
    return fs::is_regular_file(blob_path(digest), ec);
}

fs::path Store::manifest_path(const ModelRef& ref) const {
    fs::path path = root_ / "manifests";
    for (const std::string& part : {ref.host, ref.ns, ref.model, ref.tag}) {
        path /= existing_entry_ignoring_case(path, part);
    }
    return path;
}

std::optional<std::string> Store::read_manifest_bytes(const ModelRef& ref) const {
    std::ifstream in(manifest_path(ref), std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::optional<Manifest> Store::read_manifest(const ModelRef& ref) const {
    auto bytes = read_manifest_bytes(ref);
    if (!bytes) return std::nullopt;
    try {
        return Manifest::parse(*bytes);
    } catch (const Error& e) {
        throw Error("manifest of '" + ref.display() + "' is damaged (" + e.what() + ")");
    }
}

void Store::write_manifest(const ModelRef& ref, std::string_view json_text) {
    Manifest m = Manifest::parse(json_text);
    for (const Layer& l : m.blobs()) {
        if (!has_blob(l.digest)) {
            throw Error("cannot write manifest of '" + ref.display() + "': blob " + l.digest +
                        " is missing");
        }
    }
    std::optional<Manifest> replaced;
    if (auto old = read_manifest_bytes(ref)) {
        try {
            replaced = Manifest::parse(*old);
        } catch (const Error&) {
            // a damaged manifest is replaced; its blobs are left for lack of a list
        }
    }
    write_file_atomic(manifest_path(ref), json_text);
    // A re-create or re-pull under the same name: the old version's blobs go unless shared.
    if (replaced) remove_unreferenced_blobs(*replaced);
}

void Store::remove_unreferenced_blobs(const Manifest& gone) {
    remove_unreferenced(gone.blobs());
}

void Store::remove_unreferenced(const std::vector<Layer>& blobs) {
    std::set<std::string> in_use;
    for (const ListEntry& e : list()) {
        for (const Layer& l : e.manifest.blobs()) in_use.insert(l.digest);
    }
    std::error_code ec;
    for (const Layer& l : blobs) {
        if (!in_use.count(l.digest)) fs::remove(blob_path(l.digest), ec);
    }
}

fs::path Store::temp_path(std::string_view hint) const {
    return blobs_dir() / (".tmp-" + std::string(hint) + "-" + unique_suffix());
}

void Store::commit_blob(const fs::path& tmp, std::string_view digest) {
    fs::path dst = blob_path(digest);
    int fd = ::open(tmp.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ::fsync(fd);
        ::close(fd);
    }
    if (::rename(tmp.c_str(), dst.c_str()) != 0) {
        int e = errno;
        ::unlink(tmp.c_str());
        throw Error(errno_message("cannot move blob into", dst, e), ErrorKind::Io);
    }
    sync_dir(blobs_dir());
}

Layer Store::put_blob(std::string_view media_type, std::string_view data) {
    Layer l{std::string(media_type), "sha256:" + sha256_hex(data), data.size()};
    if (!has_blob(l.digest)) write_file_atomic(blob_path(l.digest), data);
    return l;
}

Layer Store::import_file(std::string_view media_type, const std::string& path) {
    Layer l;
    l.media_type = media_type;
    l.digest = "sha256:" + sha256_file_hex(path, &l.size);
    if (has_blob(l.digest)) return l;
    std::error_code ec;
    fs::create_directories(blobs_dir(), ec);
    fs::path tmp = temp_path("import");
    int src = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (src < 0) throw Error(errno_message("cannot read", path, errno), ErrorKind::Io);
    int dst = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (dst < 0) {
        int e = errno;
        ::close(src);
        throw Error(errno_message("cannot create", tmp, e), ErrorKind::Io);
    }
    try {
        // A copy-on-write clone costs no space where the file system supports it.
        if (::ioctl(dst, FICLONE, src) != 0) {
            std::vector<char> buf(1 << 20);
            while (true) {
                ssize_t n = ::read(src, buf.data(), buf.size());
                if (n < 0 && errno == EINTR) continue;
                if (n < 0) throw Error(errno_message("cannot read", path, errno), ErrorKind::Io);
                if (n == 0) break;
                write_all(dst, buf.data(), static_cast<size_t>(n), tmp);
            }
        }
        if (::fsync(dst) != 0)
            throw Error(errno_message("cannot flush", tmp, errno), ErrorKind::Io);
    } catch (...) {
        ::close(src);
        ::close(dst);
        ::unlink(tmp.c_str());
        throw;
    }
    ::close(src);
    ::close(dst);
    // The file may have changed while we copied it: hash what landed in the store.
    uint64_t n = 0;
    if (sha256_file_hex(tmp.string(), &n) != l.digest.substr(7) || n != l.size) {
        ::unlink(tmp.c_str());
        throw Error("'" + path + "' changed while it was being imported; try again");
    }
    commit_blob(tmp, l.digest);
    return l;
}

std::vector<ListEntry> Store::list() const {
    std::vector<ListEntry> out;
    fs::path mdir = root_ / "manifests";
    std::error_code ec;
    if (!fs::is_directory(mdir, ec)) return out;
    for (auto it = fs::recursive_directory_iterator(mdir, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (it.depth() != 3 || !it->is_regular_file(ec)) continue;
        fs::path rel = fs::relative(it->path(), mdir, ec);
        std::vector<std::string> parts;
        for (const auto& p : rel) parts.push_back(p.string());
        if (parts.size() != 4 || parts[3].starts_with(".")) continue;
        std::string name = parts[0] + "/" + parts[1] + "/" + parts[2] + ":" + parts[3];
        if (!is_valid_ref(name)) continue;
        ListEntry e;
        e.ref = parse_ref(name);
        auto bytes = read_manifest_bytes(e.ref);
        if (!bytes) continue;
        try {
            e.manifest = Manifest::parse(*bytes);
        } catch (const Error&) {
            continue;
        }
        e.digest = sha256_hex(*bytes);
        e.id = e.digest.substr(0, 12);
        e.size = e.manifest.total_size();
        e.modified = fs::last_write_time(it->path(), ec);
        out.push_back(std::move(e));
    }
    std::sort(out.begin(), out.end(), [](const ListEntry& a, const ListEntry& b) {
        if (a.modified != b.modified) return a.modified > b.modified;
        return a.ref.full() < b.ref.full();
    });
    return out;
}

bool Store::remove(const ModelRef& ref) {
    fs::path mpath = manifest_path(ref);
    auto bytes = read_manifest_bytes(ref);
    if (!bytes) return false;
    std::optional<Manifest> m;
    try {
        m = Manifest::parse(*bytes);
    } catch (const Error&) {
        // A damaged manifest is still removed; its blobs are left for lack of a list.
    }
    if (::unlink(mpath.c_str()) != 0)
        throw Error(errno_message("cannot remove", mpath, errno), ErrorKind::Io);
    sync_dir(mpath.parent_path());
    // Tidy empty directories up to manifests/.
    std::error_code ec;
    for (fs::path d = mpath.parent_path(); d != root_ / "manifests"; d = d.parent_path()) {
        if (!fs::is_empty(d, ec) || ec || !fs::remove(d, ec)) break;
    }
    if (m) remove_unreferenced_blobs(*m);
    return true;
}

void Store::copy(const ModelRef& src, const ModelRef& dst) {
    auto bytes = read_manifest_bytes(src);
    if (!bytes) throw Error("model '" + src.display() + "' not found", ErrorKind::NotFound);
    write_manifest(dst, *bytes);
}

}  // namespace lokal::store
