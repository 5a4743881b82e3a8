#include "backends/vulkan/device_weights.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "backends/vulkan/matvec.h"
#include "backends/vulkan/transfer.h"
#include "kernels/cpu/packed.h"

namespace lokal::vk {
namespace {

constexpr uint64_t kUploadChunkBytes = 16ull << 20;

}  // namespace

uint64_t max_binding_bytes(const Device& device) {
    uint64_t limit = device.info().max_storage_buffer_bytes;
    if (const char* env = std::getenv("LOKAL_VULKAN_MAX_BINDING")) {
        const uint64_t v = std::strtoull(env, nullptr, 10);
        if (v > 0 && (limit == 0 || v < limit)) limit = v;
    }
    return limit;
}

DeviceWeights::DeviceWeights(const Device& device, uint64_t max_binding)
    : device_(device), max_binding_(max_binding), stream_(device, 4) {}

void DeviceWeights::stored_rows(const kernels::MatrixView& w, DType type, int64_t first, int64_t n,
                                uint8_t* dst) const {
    const uint64_t rb = row_bytes(type, (uint64_t)w.cols);
    for (int64_t r = first; r < first + n; ++r, dst += rb) {
        if (type != w.type) {
            kernels::get_row(w, r, reinterpret_cast<float*>(dst));
        } else if (w.packed) {  // repacked for the CPU: back to the stored blocks
            kernels::unpack_row(w.type, w.data + (r / kernels::kPackRows) * w.row_stride,
                                (int)(r % kernels::kPackRows), w.cols, dst);
        } else {
            std::memcpy(dst, w.row(r), rb);
        }
    }
}

const DeviceWeights::Matrix& DeviceWeights::matrix(const kernels::MatrixView& w) {
    const Key key{w.data, w.rows, w.cols};
    // Held through the upload: another thread asking for the same matrix waits for it rather
    // than uploading it twice. Map nodes stay in place, so the reference outlives the lock.
    const std::lock_guard lock(mutex_);
    auto it = matrices_.find(key);
    if (it != matrices_.end()) return it->second;
    Matrix m;
    m.type = matvec_supports(w.type) ? w.type : DType::F32;
    const uint64_t rb = row_bytes(m.type, (uint64_t)w.cols);
    const int64_t piece_rows =
        max_binding_ > 0
            ? std::max<int64_t>(1, (int64_t)std::min<uint64_t>(max_binding_ / rb, 1u << 30))
            : w.rows;
    const bool as_stored = m.type == w.type && !w.packed && w.row_stride == rb;
    const int64_t chunk_rows = std::max<int64_t>(1, (int64_t)(kUploadChunkBytes / rb));
    std::vector<uint8_t> staged;
    for (int64_t p0 = 0; p0 < w.rows; p0 += piece_rows) {
        Piece piece;
        piece.first_row = (uint32_t)p0;
        piece.rows = (uint32_t)std::min(piece_rows, w.rows - p0);
        piece.buf =
            std::make_unique<Buffer>(device_, rb * piece.rows, MemoryKind::DeviceLocal, "weights");
        if (as_stored) {
            upload(stream_, *piece.buf, 0, w.row(p0), rb * piece.rows);
        } else {
            for (int64_t r0 = p0; r0 < p0 + piece.rows; r0 += chunk_rows) {
                const int64_t nr = std::min(chunk_rows, p0 + piece.rows - r0);
                staged.resize((size_t)(nr * rb));
                stored_rows(w, m.type, r0, nr, staged.data());
                upload(stream_, *piece.buf, (uint64_t)(r0 - p0) * rb, staged.data(),
                       (uint64_t)nr * rb);
            }
        }
        m.pieces.push_back(std::move(piece));
    }
    for (const Piece& piece : m.pieces) bytes_ += piece.buf->size();
    return matrices_.emplace(key, std::move(m)).first->second;
}

const Buffer& DeviceWeights::vector(std::span<const float> v) {
    const std::lock_guard lock(mutex_);
    auto it = vectors_.find(v.data());
    if (it != vectors_.end()) return *it->second;
    auto buf = std::make_unique<Buffer>(device_, v.size_bytes(), MemoryKind::DeviceLocal,
                                        "a norm or bias vector");
    upload(stream_, *buf, 0, v.data(), v.size_bytes());
    bytes_ += buf->size();
    return *vectors_.emplace(v.data(), std::move(buf)).first->second;
}

bool DeviceWeights::holds(const kernels::MatrixView& w) const {
    const std::lock_guard lock(mutex_);
    return matrices_.contains(Key{w.data, w.rows, w.cols});
}

bool DeviceWeights::holds(std::span<const float> v) const {
    const std::lock_guard lock(mutex_);
    return vectors_.contains(v.data());
}

uint64_t DeviceWeights::bytes() const {
    const std::lock_guard lock(mutex_);
    return bytes_;
}

}  // namespace lokal::vk
