#include "backends/vulkan/gelu_table.h"

#include <cstdint>

#include "backends/vulkan/command_stream.h"
#include "backends/vulkan/transfer.h"
#include "base/fp16.h"
#include "kernels/cpu/row_ops.h"

namespace lokal::vk {

std::vector<float> gelu_f16_table() {
    std::vector<float> table(65536);
    for (uint32_t h = 0; h < table.size(); ++h) {
        table[h] = fp16_to_fp32(static_cast<uint16_t>(h));
        // The shader looks up only |g| < 10, where the kernel reads its own F16 table.
        kernels::gelu_inplace(&table[h], 1);
    }
    return table;
}

Buffer make_gelu_table_buffer(const Device& device) {
    const std::vector<float> table = gelu_f16_table();
    Buffer buffer(device, table.size() * sizeof(float), MemoryKind::DeviceLocal, "the GELU table");
    // A barrier in submission order covers later submissions on the queue too, so the caller's
    // dispatches see the table.
    CommandStream stream(device, 1);
    upload(stream, buffer, 0, table.data(), table.size() * sizeof(float));
    return buffer;
}

}  // namespace lokal::vk
