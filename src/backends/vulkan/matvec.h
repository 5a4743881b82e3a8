// y = W x on the device, for weights in their GGUF block layout (shaders/matvec_<type>.comp):
// per row and vector for a few vectors, as tiles of rows x vectors for a batch.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <utility>

#include "backends/vulkan/buffer.h"
#include "backends/vulkan/command_stream.h"
#include "backends/vulkan/compute_pipeline.h"
#include "backends/vulkan/rows_ref.h"
#include "tensor/dtype.h"

namespace lokal::vk {

bool matvec_supports(DType t);

// How record() computes the products. Rows: one workgroup per 8 rows of a vector, which reads
// the weights once per vector; Tiled: one per tile of 64 rows x 32 vectors, which dequantizes each
// weight once per tile. Auto: Tiled from kTiledMinVectors vectors on. Both give every output
// the same bits (one summation order, shaders/matvec_head.glsl), so the choice is speed only.
enum class MatvecPath { Auto, Rows, Tiled };
inline constexpr uint32_t kTiledMinVectors = 8;

inline bool runs_tiled(MatvecPath path, uint32_t n_vec) {
    return path == MatvecPath::Tiled || (path == MatvecPath::Auto && n_vec >= kTiledMinVectors);
}

struct MatvecShape {
    uint32_t rows = 0;   // of W: outputs per vector
    uint32_t cols = 0;   // of W: inputs per vector, a multiple of the type's block size
    uint32_t n_vec = 1;  // vectors: x holds n_vec rows of cols floats, y n_vec rows of `rows`
};

// x and y as whole buffers of back-to-back rows.
inline RowsRef dense_rows(const Buffer& b, uint32_t width) {
    return {&b, 0, width};
}

class Matvec {
  public:
    explicit Matvec(const Device& device) : device_(device) {}

    // Records y = W x for every vector; W holds shape.rows rows of type t back to back. Throws
    // lokal::Error (unsupported) for a type without a shader. Pipelines are made on first use.
    void record(CommandStream& stream, DType t, const Buffer& w, RowsRef x, RowsRef y,
                const MatvecShape& shape) {
        record(stream, t, w, x, y, shape, MatvecPath::Auto);
    }
    void record(CommandStream& stream, DType t, const Buffer& w, RowsRef x, RowsRef y,
                const MatvecShape& shape, MatvecPath path);

  private:
    const ComputePipeline& pipeline(DType t, const char* shader, bool tiled);

    const Device& device_;
    std::map<std::pair<DType, bool>, std::unique_ptr<ComputePipeline>> pipelines_;  // by tiled
};

}  // namespace lokal::vk
