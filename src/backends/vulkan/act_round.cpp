#include "backends/vulkan/act_round.h"

#include <optional>

#include "base/error.h"

namespace lokal::vk {
namespace {

// Matches the push-constant block and the MODE_ values of shaders/act_round.comp.
struct ActRoundPush {
    uint32_t n, cols, x_offset, x_stride, mode;
};

// One row per activation format the CPU converts to.
struct ActMode {
    DType act_type;
    uint32_t mode;
    uint32_t block_elems;
};
constexpr ActMode kModes[] = {
    {DType::Q8_0, 0, 32}, {DType::Q8_1, 0, 32}, {DType::Q8_K, 1, 256},
    {DType::F16, 2, 32},  {DType::BF16, 3, 32},
};

std::optional<ActMode> mode_for(DType weight_type) {
    const DType act = dtype_info(weight_type).act_type;
    for (const ActMode& m : kModes) {
        if (m.act_type == act) return m;
    }
    return std::nullopt;
}

}  // namespace

bool act_round_needed(DType weight_type) {
    return mode_for(weight_type).has_value();
}

ActRound::ActRound(const Device& device)
    : device_(device), pipeline_(device, "act_round", 2, sizeof(ActRoundPush)) {}

void ActRound::record(CommandStream& stream, DType weight_type, RowsRef x, const Buffer& y,
                      uint32_t n, uint32_t cols) {
    const std::optional<ActMode> m = mode_for(weight_type);
    LOKAL_ASSERT(m && x.holds(n, cols) && uint64_t{n} * cols * 4 <= y.size());
    if (n == 0 || cols == 0) return;
    const ActRoundPush push{n, cols, x.offset, x.stride, m->mode};
    const uint32_t blocks = (cols + m->block_elems - 1) / m->block_elems;
    pipeline_.dispatch(stream, {x.buf, &y}, &push, {(blocks + 63) / 64, n, 1});
}

}  // namespace lokal::vk
