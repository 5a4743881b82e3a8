#include "server/response_store.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <vector>

#include "store/store.h"

namespace lokal::server {

namespace fs = std::filesystem;

bool is_response_id(const std::string& id) {
    return id.size() > 5 && id.size() < 64 && id.starts_with("resp_") &&
           std::all_of(id.begin() + 5, id.end(),
                       [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

fs::path ResponseStore::default_dir() {
    return store::Store::default_root() / "responses";
}

fs::path ResponseStore::path_of(const std::string& id) const {
    return dir_ / (id + ".json");
}

void ResponseStore::save(const std::string& id, const nlohmann::ordered_json& record) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::error_code ec;
    fs::create_directories(dir_, ec);
    store::write_file_atomic(
        path_of(id), record.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
    evict_oldest();
}

std::optional<nlohmann::ordered_json> ResponseStore::load(const std::string& id) const {
    if (!is_response_id(id)) return std::nullopt;
    std::ifstream in(path_of(id), std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream ss;
    ss << in.rdbuf();
    auto j = nlohmann::ordered_json::parse(ss.str(), nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("response")) return std::nullopt;
    return j;
}

bool ResponseStore::remove(const std::string& id) {
    if (!is_response_id(id)) return false;
    std::lock_guard<std::mutex> lock(mutex_);
    std::error_code ec;
    return fs::remove(path_of(id), ec);
}

void ResponseStore::evict_oldest() {
    std::vector<std::pair<fs::file_time_type, fs::path>> files;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir_, ec)) {
        if (e.path().extension() == ".json") files.emplace_back(e.last_write_time(ec), e.path());
    }
    if (files.size() <= kMaxStored) return;
    std::sort(files.begin(), files.end());
    for (size_t i = 0; i + kMaxStored < files.size(); ++i) fs::remove(files[i].second, ec);
}

}  // namespace lokal::server
