// Where an op's rows lie in a float buffer: element (row r, column c) is at
// offset + r * stride + c, in floats. The backend's activation buffers hold one row per token;
// an op that reads q, k and v side by side in one row takes three RowsRefs into one buffer.
#pragma once

#include <cstdint>

#include "backends/vulkan/buffer.h"

namespace lokal::vk {

struct RowsRef {
    const Buffer* buf = nullptr;
    uint32_t offset = 0;  // floats
    uint32_t stride = 0;  // floats between rows

    // Enough floats for `rows` rows of `width` columns.
    bool holds(uint32_t rows, uint32_t width) const {
        return buf && (rows == 0 || (uint64_t{offset} + uint64_t{rows - 1} * stride + width) * 4 <=
                                        buf->size());
    }
};

}  // namespace lokal::vk
