// Internal to fit: random weight matrices for timing the real kernels on.
#pragma once

#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/cpu/matmul.h"
#include "kernels/cpu/packed.h"
#include "tensor/dtype.h"

namespace lokal::fit {

// A (rows, cols) matrix of `type`: one random row quantized and repeated (the kernels' speed
// does not depend on the values), packed when the CPU kernels would pack it.
struct TestMatrix {
    std::vector<uint8_t> stored, packed;
    kernels::MatrixView view;

    TestMatrix(DType type, int64_t rows, int64_t cols) {
        const DTypeInfo& info = dtype_info(type);
        const uint64_t rb = row_bytes(type, (uint64_t)cols);
        stored.resize(rb * (uint64_t)rows);
        std::vector<float> x((size_t)cols);
        std::mt19937 rng(7);
        std::normal_distribution<float> dist(0.0f, 0.02f);
        for (float& v : x) v = dist(rng);
        if (info.from_float) info.from_float(x.data(), stored.data(), cols);
        for (int64_t r = 1; r < rows; ++r) std::memcpy(&stored[r * rb], stored.data(), rb);
        view = {type, rows, cols, stored.data(), rb, false};
        if (kernels::repack_enabled() && kernels::can_pack(type, rows, cols)) {
            const uint64_t gb = kernels::packed_group_bytes(type, cols);
            const int64_t groups = rows / kernels::kPackRows;
            packed.resize(gb * (uint64_t)groups);
            kernels::pack_groups(type, stored.data(), rb, cols, 0, groups, packed.data());
            stored = {};
            view = {type, rows, cols, packed.data(), gb, true};
        }
    }
    uint64_t bytes() const { return packed.empty() ? stored.size() : packed.size(); }
};

}  // namespace lokal::fit
