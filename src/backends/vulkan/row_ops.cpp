#include "backends/vulkan/row_ops.h"

#include <iterator>
#include <memory>

#include "backends/vulkan/gelu_table.h"
#include "backends/vulkan/grid.h"
#include "base/error.h"

namespace lokal::vk {
namespace {

// The push-constant blocks of the shaders, field for field.
struct MapPush {  // row_scale, row_softcap, row_gelu (which ends at stride)
    uint32_t n, width, offset, stride;
    float param;
};
struct AddPush {  // row_add
    uint32_t n, width, x_offset, x_stride, y_offset, y_stride;
};
struct GluPush {  // row_glu
    uint32_t n, width, gate_offset, gate_stride, up_offset, up_stride, out_offset, out_stride;
};
struct GatherPush {  // row_gather
    uint32_t n, width, src_offset, src_stride, dst_offset, dst_stride, rows_offset;
};
struct NormPush {  // row_norm.glsl
    uint32_t n, group, x_offset, x_stride, out_offset, out_stride;
    float eps;
};
struct RopePush {  // row_rope
    uint32_t n, head_dim, n_rot, neox, x_offset, x_stride, table_offset;
};

struct ShaderSpec {
    const char* name;
    uint32_t buffers;
    uint32_t push_bytes;
};

// Indexed by RowOps::Shader.
constexpr ShaderSpec kShaders[] = {
    {"row_scale", 1, sizeof(MapPush)},       {"row_softcap", 1, sizeof(MapPush)},
    {"row_gelu", 2, 4 * sizeof(uint32_t)},   {"row_add", 2, sizeof(AddPush)},
    {"row_glu", 3, sizeof(GluPush)},         {"row_glu_gelu", 4, sizeof(GluPush)},
    {"row_gather", 3, sizeof(GatherPush)},   {"row_rms_norm", 3, sizeof(NormPush)},
    {"row_layer_norm", 4, sizeof(NormPush)}, {"row_rope", 2, sizeof(RopePush)},
};

constexpr uint32_t kElementwiseWg = 256;  // ELEMENTWISE_WG of row_elementwise.glsl

Groups element_groups(const Device& device, uint32_t n, uint32_t width) {
    return row_groups(device, n, (width + kElementwiseWg - 1) / kElementwiseWg);
}

bool holds_floats(const Buffer& b, uint64_t count) {
    return count * sizeof(float) <= b.size();
}

}  // namespace

RowOps::RowOps(const Device& device) : device_(device) {
    static_assert(std::size(kShaders) == static_cast<size_t>(Shader::Count));
}

RowOps::~RowOps() = default;

const ComputePipeline& RowOps::pipeline(Shader shader) {
    const auto i = static_cast<size_t>(shader);
    if (!pipelines_[i]) {
        const ShaderSpec& spec = kShaders[i];
        pipelines_[i] =
            std::make_unique<ComputePipeline>(device_, spec.name, spec.buffers, spec.push_bytes);
    }
    return *pipelines_[i];
}

const Buffer& RowOps::gelu_table() {
    if (!gelu_table_) gelu_table_ = std::make_unique<Buffer>(make_gelu_table_buffer(device_));
    return *gelu_table_;
}

void RowOps::scale(CommandStream& stream, RowsRef x, uint32_t n, uint32_t width, float s) {
    LOKAL_ASSERT(x.holds(n, width));
    if (n == 0 || width == 0) return;
    const MapPush push{n, width, x.offset, x.stride, s};
    pipeline(Shader::Scale).dispatch(stream, {x.buf}, &push, element_groups(device_, n, width));
}

void RowOps::softcap(CommandStream& stream, RowsRef x, uint32_t n, uint32_t width, float cap) {
    LOKAL_ASSERT(x.holds(n, width) && cap > 0.0f);
    if (n == 0 || width == 0) return;
    const MapPush push{n, width, x.offset, x.stride, cap};
    pipeline(Shader::Softcap).dispatch(stream, {x.buf}, &push, element_groups(device_, n, width));
}

void RowOps::tanh(CommandStream& stream, RowsRef x, uint32_t n, uint32_t width) {
    softcap(stream, x, n, width, 1.0f);  // 1 * tanh(x / 1) is tanh(x) to the bit
}

void RowOps::gelu(CommandStream& stream, RowsRef x, uint32_t n, uint32_t width) {
    LOKAL_ASSERT(x.holds(n, width));
    if (n == 0 || width == 0) return;
    const Buffer& table = gelu_table();
    const MapPush push{n, width, x.offset, x.stride, 0.0f};
    pipeline(Shader::Gelu)
        .dispatch(stream, {x.buf, &table}, &push, element_groups(device_, n, width));
}

void RowOps::add(CommandStream& stream, RowsRef x, RowsRef y, uint32_t n, uint32_t width) {
    LOKAL_ASSERT(x.holds(n, width) && y.holds(n, width));
    if (n == 0 || width == 0) return;
    const AddPush push{n, width, x.offset, x.stride, y.offset, y.stride};
    pipeline(Shader::Add)
        .dispatch(stream, {x.buf, y.buf}, &push, element_groups(device_, n, width));
}

void RowOps::add_bias(CommandStream& stream, RowsRef x, const Buffer& b, uint32_t n,
                      uint32_t width) {
    LOKAL_ASSERT(holds_floats(b, width));
    add(stream, x, RowsRef{&b, 0, 0}, n, width);  // stride 0: row 0 for every row
}

void RowOps::glu(CommandStream& stream, GluKind kind, RowsRef gate, RowsRef up, RowsRef out,
                 uint32_t n, uint32_t width) {
    LOKAL_ASSERT(gate.holds(n, width) && up.holds(n, width) && out.holds(n, width));
    if (n == 0 || width == 0) return;
    const GluPush push{n,         width,     gate.offset, gate.stride,
                       up.offset, up.stride, out.offset,  out.stride};
    const Groups groups = element_groups(device_, n, width);
    if (kind == GluKind::GeluTanh) {
        const Buffer& table = gelu_table();
        pipeline(Shader::GluGelu)
            .dispatch(stream, {gate.buf, up.buf, out.buf, &table}, &push, groups);
    } else {
        pipeline(Shader::GluSilu).dispatch(stream, {gate.buf, up.buf, out.buf}, &push, groups);
    }
}

void RowOps::gather_rows(CommandStream& stream, RowsRef src, const Buffer& rows,
                         uint32_t rows_offset, RowsRef dst, uint32_t n, uint32_t width) {
    LOKAL_ASSERT(dst.holds(n, width) && holds_floats(rows, uint64_t{rows_offset} + n));
    LOKAL_ASSERT(src.buf && src.offset + uint64_t{width} <= src.buf->size() / sizeof(float));
    if (n == 0 || width == 0) return;
    const GatherPush push{n, width, src.offset, src.stride, dst.offset, dst.stride, rows_offset};
    pipeline(Shader::Gather)
        .dispatch(stream, {src.buf, &rows, dst.buf}, &push, element_groups(device_, n, width));
}

void RowOps::rms_norm(CommandStream& stream, RowsRef x, const Buffer& w, RowsRef out, uint32_t n,
                      uint32_t width, uint32_t group, float eps) {
    LOKAL_ASSERT(group > 0 && width % group == 0 && holds_floats(w, group));
    LOKAL_ASSERT(x.holds(n, width) && out.holds(n, width));
    if (n == 0 || width == 0) return;
    const NormPush push{n, group, x.offset, x.stride, out.offset, out.stride, eps};
    pipeline(Shader::RmsNorm)
        .dispatch(stream, {x.buf, &w, out.buf}, &push, row_groups(device_, n, width / group));
}

void RowOps::layer_norm(CommandStream& stream, RowsRef x, const Buffer& w, const Buffer& b,
                        RowsRef out, uint32_t n, uint32_t width, float eps) {
    LOKAL_ASSERT(holds_floats(w, width) && holds_floats(b, width));
    LOKAL_ASSERT(x.holds(n, width) && out.holds(n, width));
    if (n == 0 || width == 0) return;
    const NormPush push{n, width, x.offset, x.stride, out.offset, out.stride, eps};
    pipeline(Shader::LayerNorm)
        .dispatch(stream, {x.buf, &w, &b, out.buf}, &push, row_groups(device_, n));
}

void RowOps::rope(CommandStream& stream, RowsRef x, uint32_t n, uint32_t n_heads, uint32_t head_dim,
                  uint32_t n_rot, kernels::RopeStyle style, const Buffer& table,
                  uint32_t table_offset) {
    LOKAL_ASSERT(n_rot % 2 == 0 && n_rot <= head_dim && x.holds(n, n_heads * head_dim));
    LOKAL_ASSERT(holds_floats(table, uint64_t{table_offset} + uint64_t{n} * n_rot));
    if (n == 0 || n_heads == 0 || n_rot == 0) return;
    const RopePush push{
        n,        head_dim, n_rot,       style == kernels::RopeStyle::NeoX ? 1u : 0u,
        x.offset, x.stride, table_offset};
    pipeline(Shader::Rope)
        .dispatch(stream, {x.buf, &table}, &push, row_groups(device_, n, n_heads));
}

}  // namespace lokal::vk
