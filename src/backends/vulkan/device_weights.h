// A model's weights on one device: each matrix and float vector uploaded once, on first use, in
// its GGUF block format (a copy the CPU repacked is unpacked first; a type no shader reads is
// converted to F32), and cut into pieces of consecutive rows no larger than one shader binding
// may hold (a 128k-vocabulary output matrix can exceed it). One copy serves every backend of the
// model on the device (shared_weights.h), on any thread: uploads happen under a lock, and what
// is uploaded stays unchanged and in place until the copy goes.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <unordered_map>
#include <vector>

#include "backends/vulkan/buffer.h"
#include "backends/vulkan/command_stream.h"
#include "backends/vulkan/device.h"
#include "kernels/cpu/matmul.h"

namespace lokal::vk {

// The most one shader binding may hold: the device's limit, or less where LOKAL_VULKAN_MAX_BINDING
// says so (for tests of the pieces, and for drivers that overstate their limit). 0: no limit.
uint64_t max_binding_bytes(const Device& device);

class DeviceWeights {
  public:
    struct Piece {
        std::unique_ptr<Buffer> buf;
        uint32_t first_row = 0, rows = 0;
    };
    struct Matrix {
        std::vector<Piece> pieces;
        DType type = DType::F32;  // as stored on the device
    };

    DeviceWeights(const Device& device, uint64_t max_binding);

    // Uploads (and waits for) what is not on the device yet.
    const Matrix& matrix(const kernels::MatrixView& w);
    const Buffer& vector(std::span<const float> v);
    // Whether these are on the device already (they would take no more memory).
    bool holds(const kernels::MatrixView& w) const;
    bool holds(std::span<const float> v) const;
    uint64_t bytes() const;
    uint64_t max_binding() const { return max_binding_; }

  private:
    struct Key {
        const void* data;
        int64_t rows, cols;
        bool operator==(const Key&) const = default;
    };
    struct KeyHash {
        size_t operator()(const Key& k) const {
            return std::hash<const void*>()(k.data) ^ (std::hash<int64_t>()(k.rows) << 1);
        }
    };
    // Rows [first, first + n) of w, as the device stores them, into dst.
    void stored_rows(const kernels::MatrixView& w, DType type, int64_t first, int64_t n,
                     uint8_t* dst) const;

    const Device& device_;
    uint64_t max_binding_;
    mutable std::mutex mutex_;  // guards everything below
    CommandStream stream_;      // uploads, apart from any recording of ops
    std::unordered_map<Key, Matrix, KeyHash> matrices_;
    std::unordered_map<const float*, std::unique_ptr<Buffer>> vectors_;
    uint64_t bytes_ = 0;
};

}  // namespace lokal::vk
