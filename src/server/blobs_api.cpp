// /api/blobs/:digest: HEAD says whether the store holds a blob, POST uploads one (streamed to a
// temporary file in the store, hashed on the way, renamed into place only when the digest
// matches). This is how a client sends the server a model file: `ollama create` uploads the GGUF
// here, then names it by digest in /api/create's `files`.
#include <httplib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include "server/api_util.h"
#include "server/http_error.h"
#include "server/server.h"
#include "store/sha256.h"
#include "store/store.h"

namespace lokal::server {

namespace {

constexpr const char* kBlobRoute = R"(/api/blobs/([^/]+))";

// "sha256:<hex>" (as clients send it) or "sha256-<hex>" (as blob files are named).
std::string digest_of(const httplib::Request& req) {
    std::string d = req.matches.size() > 1 ? std::string(req.matches[1]) : std::string();
    if (d.starts_with("sha256-")) d[6] = ':';
    if (!store::is_valid_digest(d)) {
        throw HttpError(400, "invalid digest '" + d + "'; expected sha256:<64 lowercase hex>",
                        "digest");
    }
    return d;
}

// A temporary file that is removed unless committed.
class UploadFile {
  public:
    explicit UploadFile(const store::Store& s) : path_(s.temp_path("upload")) {
        std::error_code ec;
        std::filesystem::create_directories(s.blobs_dir(), ec);
        file_ = std::fopen(path_.c_str(), "wbx");
        if (!file_) {
            throw Error("cannot create " + path_.string() + ": " + std::strerror(errno),
                        ErrorKind::Io);
        }
    }
    ~UploadFile() {
        if (file_) std::fclose(file_);
        if (!committed_) std::filesystem::remove(path_, ignored_);
    }
    UploadFile(const UploadFile&) = delete;
    UploadFile& operator=(const UploadFile&) = delete;

    bool write(const char* data, size_t n) {
        hash_.update(data, n);
        size_ += n;
        return std::fwrite(data, 1, n, file_) == n;
    }
    // Closes the file and returns the digest of what was written.
    std::string finish() {
        const bool ok = std::fflush(file_) == 0 && !std::ferror(file_);
        std::fclose(file_);
        file_ = nullptr;
        if (!ok) {
            throw Error("cannot write " + path_.string() + " (disk full?)", ErrorKind::Io);
        }
        return "sha256:" + hash_.hex();
    }
    void commit(store::Store& s, const std::string& digest) {
        s.commit_blob(path_, digest);
        committed_ = true;
    }
    uint64_t size() const { return size_; }

  private:
    std::filesystem::path path_;
    std::FILE* file_ = nullptr;
    store::Sha256 hash_;
    uint64_t size_ = 0;
    bool committed_ = false;
    std::error_code ignored_;
};

void head_blob(ServerState& state, const httplib::Request& req, httplib::Response& res) {
    answer_errors(state, req, res, [&] {
        const std::string digest = digest_of(req);
        res.status = store::Store::open_default().has_blob(digest) ? 200 : 404;
    });
}

void upload_blob(ServerState& state, const httplib::Request& req, httplib::Response& res,
                 const httplib::ContentReader& reader) {
    answer_errors(state, req, res, [&] {
        const std::string digest = digest_of(req);
        store::Store s = store::Store::open_default();
        if (s.has_blob(digest)) {
            reader([](const char*, size_t) { return true; });  // drain; nothing to store
            res.status = 200;
            return;
        }
        UploadFile file(s);
        bool write_failed = false;
        const bool complete = reader([&](const char* data, size_t n) {
            if (file.write(data, n)) return true;
            write_failed = true;
            return false;
        });
        if (write_failed) throw Error("cannot write the upload (disk full?)", ErrorKind::Io);
        if (!complete) throw HttpError(400, "the upload ended before its body was complete");
        const std::string got = file.finish();
        if (got != digest) {
            throw HttpError(400,
                            "digest mismatch: the body (" + std::to_string(file.size()) +
                                " bytes) hashes to " + got + ", not " + digest,
                            "digest");
        }
        file.commit(s, digest);
        res.status = 201;
    });
}

}  // namespace

bool is_blob_upload(const httplib::Request& req) {
    return req.method == "POST" && req.path.starts_with("/api/blobs/");
}

void register_blob_routes(httplib::Server& http, ServerState& state) {
    http.Post(kBlobRoute, [&state](const httplib::Request& req, httplib::Response& res,
                                   const httplib::ContentReader& reader) {
        upload_blob(state, req, res, reader);
    });
    // cpp-httplib answers HEAD through the GET route.
    http.Get(kBlobRoute, [&state](const httplib::Request& req, httplib::Response& res) {
        head_blob(state, req, res);
    });
}

}  // namespace lokal::server
