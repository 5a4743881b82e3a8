// shared_weights: one copy per (model, device, binding limit), alive while someone holds it;
// DeviceWeights uploads a matrix once however many threads ask; Device counts its memory.
#include "backends/vulkan/shared_weights.h"

#include <gtest/gtest.h>

#include <cstring>
#include <thread>
#include <vector>

#include "backends/vulkan/buffer.h"
#include "backends/vulkan/test_gpu.h"
#include "backends/vulkan/transfer.h"

namespace lokal::vk {
namespace {

using testing::VulkanTest;

// A model id no other test uses.
constexpr uint64_t kModel = 0x5eed0001;

class SharedWeights : public VulkanTest {};

TEST_F(SharedWeights, OneCopyPerModelWhileHeld) {
    const uint64_t limit = max_binding_bytes(device());
    EXPECT_EQ(existing_shared_weights(kModel, device(), limit), nullptr);
    auto a = shared_weights(kModel, device(), limit);
    auto b = shared_weights(kModel, device(), limit);
    EXPECT_EQ(a, b);
    EXPECT_EQ(existing_shared_weights(kModel, device(), limit), a);
    EXPECT_NE(shared_weights(kModel + 1, device(), limit), a);
    EXPECT_NE(shared_weights(kModel, device(), limit + 4), a);  // cut into other pieces
    a.reset();
    EXPECT_NE(existing_shared_weights(kModel, device(), limit), nullptr);
    b.reset();
    EXPECT_EQ(existing_shared_weights(kModel, device(), limit), nullptr);
}

TEST_F(SharedWeights, TwoThreadsUploadAMatrixOnceAndTheMemoryReturns) {
    const uint64_t in_use = device().device_local_in_use();
    constexpr int64_t kRows = 64, kCols = 256;
    std::vector<float> values(kRows * kCols);
    for (size_t i = 0; i < values.size(); ++i) values[i] = (float)((i * 7919) % 1000) / 999.0f;
    kernels::MatrixView w;
    w.type = DType::F32;
    w.rows = kRows;
    w.cols = kCols;
    w.data = reinterpret_cast<const uint8_t*>(values.data());
    w.row_stride = kCols * sizeof(float);
    {
        auto weights = shared_weights(kModel + 2, device(), max_binding_bytes(device()));
        EXPECT_FALSE(weights->holds(w));
        const DeviceWeights::Matrix* seen[2] = {};
        std::thread threads[2];
        for (int i = 0; i < 2; ++i) {
            threads[i] = std::thread([&, i] {
                auto mine = shared_weights(kModel + 2, device(), max_binding_bytes(device()));
                seen[i] = &mine->matrix(w);
            });
        }
        for (std::thread& t : threads) t.join();
        EXPECT_EQ(seen[0], seen[1]);
        EXPECT_TRUE(weights->holds(w));
        EXPECT_EQ(weights->bytes(), (uint64_t)values.size() * sizeof(float));
        EXPECT_EQ(device().device_local_in_use(), in_use + weights->bytes());
        std::vector<float> back(values.size());
        CommandStream stream(device());
        uint64_t offset = 0;
        for (const DeviceWeights::Piece& p : seen[0]->pieces) {
            const uint64_t n = (uint64_t)p.rows * kCols * sizeof(float);
            download(stream, *p.buf, 0, reinterpret_cast<uint8_t*>(back.data()) + offset, n);
            offset += n;
        }
        EXPECT_EQ(std::memcmp(back.data(), values.data(), values.size() * sizeof(float)), 0);
    }
    EXPECT_EQ(device().device_local_in_use(), in_use);
}

TEST_F(SharedWeights, DeviceCountsDeviceLocalBuffersOnly) {
    const uint64_t in_use = device().device_local_in_use();
    {
        const Buffer local(device(), 1000, MemoryKind::DeviceLocal, "a test buffer");
        const Buffer host(device(), 4000, MemoryKind::Host, "a test buffer");
        EXPECT_EQ(device().device_local_in_use(), in_use + 1000);
    }
    EXPECT_EQ(device().device_local_in_use(), in_use);
}

}  // namespace
}  // namespace lokal::vk
