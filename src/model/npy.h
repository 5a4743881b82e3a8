// Minimal reader for NumPy .npy files holding little-endian float32 arrays (the reference
// logits in ../shared/testdata). Used by tests and the comparison tools.
#pragma once

#include <string>
#include <vector>

namespace lokal::model {

struct NpyArray {
    std::vector<size_t> shape;
    std::vector<float> data;
};

// Throws lokal::Error when the file is missing or not a C-order '<f4' array.
NpyArray read_npy_f32(const std::string& path);

}  // namespace lokal::model
