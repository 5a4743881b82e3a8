// y = W x on the device, for weights in their GGUF block layout (shaders/matvec_<type>.comp).
#pragma once

#include <cstdint>
#include <map>
#include <memory>

#include "backends/vulkan/buffer.h"
#include "backends/vulkan/command_stream.h"
#include "backends/vulkan/compute_pipeline.h"
#include "backends/vulkan/rows_ref.h"
#include "tensor/dtype.h"

namespace lokal::vk {

bool matvec_supports(DType t);

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
    // subgroups: add partial sums with subgroup arithmetic (the shaders' subgroup variant);
    // by default where the device offers it in compute shaders.
    explicit Matvec(const Device& device) : Matvec(device, device.info().subgroup_arithmetic) {}
    Matvec(const Device& device, bool subgroups) : device_(device), subgroups_(subgroups) {}

    // Records y = W x for every vector; W holds shape.rows rows of type t back to back. Throws
    // lokal::Error (unsupported) for a type without a shader. Pipelines are made on first use.
    void record(CommandStream& stream, DType t, const Buffer& w, RowsRef x, RowsRef y,
                const MatvecShape& shape);

  private:
    const Device& device_;
    bool subgroups_;
    std::map<DType, std::unique_ptr<ComputePipeline>> pipelines_;
};

}  // namespace lokal::vk
