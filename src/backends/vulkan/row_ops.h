// The row-wise ops of a forward pass on the device: elementwise maps, norms, rotary embedding
// and row gathers over RowsRefs (shaders/row_*.comp). Each call records one dispatch and no
// barrier: the caller puts a CommandStream::barrier() between ops that depend on each other.
// The RowOps must outlive the run of what it recorded (its pipelines and GELU table are bound).
// Results match the CPU kernels (kernels/cpu/row_ops.h, rope.h): bit for bit where the device
// rounds as IEEE requires (scale, add, gather, rope, GELU), within a few ulp for SiLU and tanh
// (row_ops_test.cpp says how many), within float summation error for the norms.
#pragma once

#include <array>
#include <cstdint>
#include <memory>

#include "backends/vulkan/buffer.h"
#include "backends/vulkan/command_stream.h"
#include "backends/vulkan/compute_pipeline.h"
#include "backends/vulkan/rows_ref.h"
#include "kernels/cpu/rope.h"

namespace lokal::vk {

enum class GluKind { SiLU, GeluTanh };

class RowOps {
  public:
    // Pipelines are made on first use; so is the GELU table, uploaded on a stream of its own
    // (submitted and waited for) by the first gelu() or GeluTanh glu().
    explicit RowOps(const Device& device);
    ~RowOps();
    RowOps(const RowOps&) = delete;
    RowOps& operator=(const RowOps&) = delete;

    // Every op works on n rows of `width` columns of its RowsRefs.
    // x *= s.
    void scale(CommandStream& stream, RowsRef x, uint32_t n, uint32_t width, float s);
    // x += y (y may be x).
    void add(CommandStream& stream, RowsRef x, RowsRef y, uint32_t n, uint32_t width);
    // x += b per row; b holds width floats.
    void add_bias(CommandStream& stream, RowsRef x, const Buffer& b, uint32_t n, uint32_t width);
    // out = act(gate) * up; out may be gate or up.
    void glu(CommandStream& stream, GluKind kind, RowsRef gate, RowsRef up, RowsRef out, uint32_t n,
             uint32_t width);
    // x = gelu(x), the tanh approximation through the F16 table as the CPU computes it.
    void gelu(CommandStream& stream, RowsRef x, uint32_t n, uint32_t width);
    void tanh(CommandStream& stream, RowsRef x, uint32_t n, uint32_t width);
    // x = cap * tanh(x / cap) (logits).
    void softcap(CommandStream& stream, RowsRef x, uint32_t n, uint32_t width, float cap);
    // dst row r = src row rows[rows_offset + r]; rows holds uint32 row numbers of src. dst must
    // not overlap src.
    void gather_rows(CommandStream& stream, RowsRef src, const Buffer& rows, uint32_t rows_offset,
                     RowsRef dst, uint32_t n, uint32_t width);
    // out = x / rms(x) * w for each `group`-wide piece of each row: group == width norms whole
    // rows, group == head_dim each head (q/k norms). w holds group floats; out may be x.
    void rms_norm(CommandStream& stream, RowsRef x, const Buffer& w, RowsRef out, uint32_t n,
                  uint32_t width, uint32_t group, float eps);
    // out = (x - mean) / sqrt(var + eps) * w + b per row; w and b hold width floats; out may be x.
    void layer_norm(CommandStream& stream, RowsRef x, const Buffer& w, const Buffer& b, RowsRef out,
                    uint32_t n, uint32_t width, float eps);
    // Rotates, in place, the first n_rot dims of each of n_heads heads (head_dim apart) of each
    // row. `table` holds, for row t at float table_offset + t * n_rot, the n_rot / 2 cosines and
    // then the n_rot / 2 sines of kernels::RopeTable::compute(rope, position of row t).
    void rope(CommandStream& stream, RowsRef x, uint32_t n, uint32_t n_heads, uint32_t head_dim,
              uint32_t n_rot, kernels::RopeStyle style, const Buffer& table, uint32_t table_offset);

  private:
    // In the order of the shader table in row_ops.cpp.
    enum class Shader {
        Scale,
        Softcap,
        Gelu,
        Add,
        GluSilu,
        GluGelu,
        Gather,
        RmsNorm,
        LayerNorm,
        Rope,
        Count
    };

    const ComputePipeline& pipeline(Shader shader);
    const Buffer& gelu_table();

    const Device& device_;
    std::array<std::unique_ptr<ComputePipeline>, static_cast<size_t>(Shader::Count)> pipelines_;
    std::unique_ptr<Buffer> gelu_table_;
};

}  // namespace lokal::vk
