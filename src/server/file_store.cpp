#include "server/file_store.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "server/api_util.h"
#include "store/store.h"

namespace lokal::server {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace {

std::optional<std::string> read_all(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::optional<UploadedFile> read_record(const fs::path& p) {
    const auto text = read_all(p);
    if (!text) return std::nullopt;
    const json j = json::parse(*text, nullptr, false);
    if (j.is_discarded()) return std::nullopt;
    try {
        return uploaded_file_from_record(j);
    } catch (const Error&) {
        return std::nullopt;
    }
}

}  // namespace

fs::path FileStore::default_dir() { return store::Store::default_root() / "files"; }

UploadedFile FileStore::add(const std::string& filename, const std::string& purpose,
                            const std::string& content) {
    UploadedFile f{random_id("file-"), filename, purpose, content.size(), unix_now()};
    std::lock_guard<std::mutex> lock(mutex_);
    fs::create_directories(dir_);
    // The bytes first: a record never names content that is not there.
    store::write_file_atomic(dir_ / f.id, content);
    store::write_file_atomic(dir_ / (f.id + ".json"),
                             uploaded_file_record(f).dump(-1, ' ', false, kReplaceInvalidUtf8));
    return f;
}

std::vector<UploadedFile> FileStore::list() const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<UploadedFile> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir_, ec)) {
        if (e.path().extension() != ".json") continue;
        if (auto f = read_record(e.path())) out.push_back(std::move(*f));
    }
    std::sort(out.begin(), out.end(), [](const UploadedFile& a, const UploadedFile& b) {
        return a.created_at != b.created_at ? a.created_at < b.created_at : a.id < b.id;
    });
    return out;
}

std::optional<UploadedFile> FileStore::get(const std::string& id) const {
    if (!is_file_id(id)) return std::nullopt;
    std::lock_guard<std::mutex> lock(mutex_);
    return read_record(dir_ / (id + ".json"));
}

std::optional<std::string> FileStore::content(const std::string& id) const {
    if (!is_file_id(id)) return std::nullopt;
    std::lock_guard<std::mutex> lock(mutex_);
    return read_all(dir_ / id);
}

bool FileStore::remove(const std::string& id) {
    if (!is_file_id(id)) return false;
    std::lock_guard<std::mutex> lock(mutex_);
    std::error_code ec;
    const bool had = fs::remove(dir_ / (id + ".json"), ec);
    fs::remove(dir_ / id, ec);
    return had;
}

}  // namespace lokal::server
