#include "safetensors/model_dir.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "base/error.h"

namespace fs = std::filesystem;

namespace lokal::safetensors {

namespace {

nlohmann::json read_index(const fs::path& path) {
    std::ifstream in(path);
    if (!in) throw Error("cannot read " + path.string(), ErrorKind::Io);
    try {
        return nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
        throw Error(path.string() + " is not valid JSON (" + e.what() + ")");
    }
}

// The shard files in the order the index first names them.
std::vector<std::string> shard_names(const fs::path& index_path, const nlohmann::json& index,
                                     std::map<std::string, std::string>& owner) {
    const auto wm = index.find("weight_map");
    if (!index.is_object() || wm == index.end() || !wm->is_object()) {
        throw Error(index_path.string() + " has no weight_map object");
    }
    std::vector<std::string> shards;
    for (const auto& [tensor, file] : wm->items()) {
        if (!file.is_string()) throw Error(index_path.string() + ": weight_map value not a string");
        const std::string name = file.get<std::string>();
        // A shard is a file name in the folder, never a path elsewhere.
        if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..") {
            throw Error(index_path.string() + ": bad shard file name '" + name + "'");
        }
        owner[tensor] = name;
        if (std::find(shards.begin(), shards.end(), name) == shards.end()) shards.push_back(name);
    }
    return shards;
}

}  // namespace

ModelWeights ModelWeights::open(const fs::path& dir) {
    ModelWeights w;
    const fs::path single = dir / "model.safetensors";
    const fs::path index_path = dir / "model.safetensors.index.json";
    std::error_code ec;
    std::vector<fs::path> files;
    std::map<std::string, std::string> owner;
    if (fs::is_regular_file(index_path, ec)) {
        for (const std::string& s : shard_names(index_path, read_index(index_path), owner)) {
            const fs::path p = dir / s;
            if (!fs::is_regular_file(p, ec)) {
                throw Error("shard '" + s + "' named by " + index_path.string() + " is missing",
                            ErrorKind::NotFound);
            }
            files.push_back(p);
        }
    } else if (fs::is_regular_file(single, ec)) {
        files.push_back(single);
    } else {
        for (const auto& e : fs::directory_iterator(dir, ec)) {
            if (e.path().extension() == ".safetensors") files.push_back(e.path());
        }
        std::sort(files.begin(), files.end());
        if (files.empty()) {
            throw Error("no .safetensors weights in " + dir.string(), ErrorKind::NotFound);
        }
    }
    for (const fs::path& p : files) {
        w.files_.push_back(File::open(p.string()));
        for (const Tensor& t : w.files_.back()->tensors()) {
            if (!owner.empty()) {
                const auto it = owner.find(t.name);
                // Tensors a shard holds but the index does not name are not part of the model.
                if (it == owner.end() || it->second != p.filename().string()) continue;
            }
            if (!w.by_name_.emplace(t.name, &t).second) {
                throw Error("tensor '" + t.name + "' is stored twice (" + p.string() + ")");
            }
        }
    }
    for (const auto& [tensor, file] : owner) {
        if (!w.by_name_.count(tensor)) {
            std::string msg = "tensor '" + tensor;
            msg += "' named by the index is not in shard '";
            msg += file;
            msg += "'";
            throw Error(msg);
        }
    }
    return w;
}

const Tensor* ModelWeights::find(const std::string& name) const {
    const auto it = by_name_.find(name);
    return it == by_name_.end() ? nullptr : it->second;
}

}  // namespace lokal::safetensors
