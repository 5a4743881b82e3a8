#include "backends/vulkan/matvec.h"

#include <string>

#include "backends/vulkan/grid.h"
#include "base/error.h"

namespace lokal::vk {
namespace {

const char* shader_for(DType t) {
    switch (t) {
        case DType::F32:
            return "matvec_f32";
        case DType::F16:
            return "matvec_f16";
        case DType::Q8_0:
            return "matvec_q8_0";
        case DType::Q4_0:
            return "matvec_q4_0";
        case DType::Q4_K:
            return "matvec_q4_k";
        case DType::Q6_K:
            return "matvec_q6_k";
        default:
            return nullptr;
    }
}

// Matches the push-constant block of shaders/matvec_head.glsl.
struct MatvecPush {
    uint32_t rows, cols, row_bytes, w_offset, x_offset, x_stride, y_offset, y_stride;
};

}  // namespace

bool matvec_supports(DType t) {
    return shader_for(t) != nullptr;
}

void Matvec::record(CommandStream& stream, DType t, const Buffer& w, RowsRef x, RowsRef y,
                    const MatvecShape& shape) {
    const char* shader = shader_for(t);
    if (!shader) {
        throw Error("the Vulkan backend has no matrix-vector shader for " +
                        std::string(dtype_name(t)) + " weights",
                    ErrorKind::Unsupported);
    }
    const uint32_t block = dtype_info(t).block_elems;
    LOKAL_ASSERT(shape.cols % block == 0);
    const uint64_t rb = row_bytes(t, shape.cols);
    LOKAL_ASSERT(rb * shape.rows <= w.size());
    LOKAL_ASSERT(x.holds(shape.n_vec, shape.cols) && y.holds(shape.n_vec, shape.rows));
    auto& pipeline = pipelines_[t];
    if (!pipeline) {
        const std::string name = subgroups_ ? std::string(shader) + "_subgroup" : shader;
        pipeline = std::make_unique<ComputePipeline>(device_, name, 3, sizeof(MatvecPush));
    }
    const MatvecPush push{shape.rows, shape.cols, static_cast<uint32_t>(rb), 0,
                          x.offset,   x.stride,   y.offset,                  y.stride};
    pipeline->dispatch(stream, {&w, x.buf, y.buf}, &push,
                       row_groups(device_, shape.rows, shape.n_vec));
}

}  // namespace lokal::vk
