// Binds GGUF tensors to weight members, checking every shape at load time, before any compute.
// Errors name the tensor, the expected and the actual shape.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "gguf/gguf_file.h"
#include "model/weights.h"

namespace lokal::model {

class WeightBinder {
  public:
    explicit WeightBinder(const gguf::File& file) : file_(file) {}

    // A matrix of shape (rows, cols).
    MatrixView matrix(const std::string& name, int64_t rows, int64_t cols) const;
    std::optional<MatrixView> optional_matrix(const std::string& name, int64_t rows,
                                              int64_t cols) const;
    // A vector of n elements, converted to float.
    std::vector<float> vector(const std::string& name, int64_t n) const;
    std::optional<std::vector<float>> optional_vector(const std::string& name, int64_t n) const;

    const gguf::File& file() const { return file_; }

    static std::string layer_name(int layer, const char* suffix) {
        return "blk." + std::to_string(layer) + "." + suffix;
    }

  private:
    const gguf::File& file_;
};

}  // namespace lokal::model
