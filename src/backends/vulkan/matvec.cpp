#include "backends/vulkan/matvec.h"

#include <array>
#include <string>

#include "backends/vulkan/grid.h"
#include "base/error.h"

namespace lokal::vk {
namespace {

struct ShaderRow {
    DType type;
    const char* shader;  // shaders/<shader>.comp, and its _tiled variant
};

constexpr std::array kShaders = {
    ShaderRow{DType::F32, "matvec_f32"},       ShaderRow{DType::F16, "matvec_f16"},
    ShaderRow{DType::BF16, "matvec_bf16"},     ShaderRow{DType::Q4_0, "matvec_q4_0"},
    ShaderRow{DType::Q4_1, "matvec_q4_1"},     ShaderRow{DType::Q5_0, "matvec_q5_0"},
    ShaderRow{DType::Q5_1, "matvec_q5_1"},     ShaderRow{DType::Q8_0, "matvec_q8_0"},
    ShaderRow{DType::Q2_K, "matvec_q2_k"},     ShaderRow{DType::Q3_K, "matvec_q3_k"},
    ShaderRow{DType::Q4_K, "matvec_q4_k"},     ShaderRow{DType::Q5_K, "matvec_q5_k"},
    ShaderRow{DType::Q6_K, "matvec_q6_k"},     ShaderRow{DType::IQ4_NL, "matvec_iq4_nl"},
    ShaderRow{DType::IQ4_XS, "matvec_iq4_xs"},
};

const char* shader_for(DType t) {
    for (const ShaderRow& row : kShaders) {
        if (row.type == t) return row.shader;
    }
    return nullptr;
}

// Rows per workgroup of the per-row shaders (shaders/matvec_rows_main.glsl's GROUP_ROWS).
constexpr uint32_t kGroupRows = 8;
// The tile of the tiled variant (shaders/matvec_tiled_main.glsl).
constexpr uint32_t kTileRows = 64;
constexpr uint32_t kTileVectors = 32;

// Matches the push-constant block of shaders/matvec_head.glsl.
struct MatvecPush {
    uint32_t rows, cols, row_bytes, w_offset, x_offset, x_stride, y_offset, y_stride, n_vec;
};

}  // namespace

bool matvec_supports(DType t) {
    return shader_for(t) != nullptr;
}

const ComputePipeline& Matvec::pipeline(DType t, const char* shader, bool tiled) {
    auto& pipeline = pipelines_[{t, tiled}];
    if (!pipeline) {
        pipeline = std::make_unique<ComputePipeline>(
            device_, std::string(shader) + (tiled ? "_tiled" : ""), 3, sizeof(MatvecPush));
    }
    return *pipeline;
}

void Matvec::record(CommandStream& stream, DType t, const Buffer& w, RowsRef x, RowsRef y,
                    const MatvecShape& shape, MatvecPath path) {
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
    if (shape.rows == 0 || shape.n_vec == 0) return;
    const bool tiled = runs_tiled(path, shape.n_vec);
    const MatvecPush push{shape.rows, shape.cols, static_cast<uint32_t>(rb),
                          0,          x.offset,   x.stride,
                          y.offset,   y.stride,   shape.n_vec};
    const Groups groups =
        tiled ? row_groups(device_, (shape.rows + kTileRows - 1) / kTileRows,
                           (shape.n_vec + kTileVectors - 1) / kTileVectors)
              : row_groups(device_, (shape.rows + kGroupRows - 1) / kGroupRows, shape.n_vec);
    pipeline(t, shader, tiled).dispatch(stream, {&w, x.buf, y.buf}, &push, groups);
}

}  // namespace lokal::vk
