// The weights of a Hugging Face model folder: model.safetensors, or the shards that
// model.safetensors.index.json names (its weight_map), each memory-mapped and validated.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "safetensors/safetensors_file.h"

namespace lokal::safetensors {

class ModelWeights {
  public:
    // Throws lokal::Error (NotFound when the folder has no safetensors file; InvalidInput when the
    // index names a shard that is missing, a tensor its shard lacks, or two shards hold one name).
    static ModelWeights open(const std::filesystem::path& dir);

    const Tensor* find(const std::string& name) const;
    // Every tensor, in name order.
    const std::map<std::string, const Tensor*>& tensors() const { return by_name_; }

  private:
    std::vector<std::unique_ptr<File>> files_;
    std::map<std::string, const Tensor*> by_name_;
};

}  // namespace lokal::safetensors
