#include "backends/vulkan/transfer.h"

#include <gtest/gtest.h>

#include <numeric>
#include <vector>

#include "backends/vulkan/test_gpu.h"

namespace lokal::vk {
namespace {

class TransferTest : public testing::VulkanTest {};

TEST_F(TransferTest, RoundTripsThroughDeviceAndHostMemory) {
    for (MemoryKind kind : {MemoryKind::DeviceLocal, MemoryKind::Host}) {
        CommandStream stream(device());
        std::vector<uint8_t> data(1001);  // not a whole number of words
        std::iota(data.begin(), data.end(), uint8_t{3});
        const Buffer buf(device(), data.size(), kind, "test data");
        EXPECT_EQ(buf.size(), 1004u);
        EXPECT_EQ(buf.mapped() != nullptr, kind == MemoryKind::Host);
        upload(stream, buf, 0, data.data(), data.size());
        std::vector<uint8_t> back(500);
        download(stream, buf, 501, back.data(), back.size());
        EXPECT_TRUE(std::equal(back.begin(), back.end(), data.begin() + 501));
    }
}

TEST_F(TransferTest, LargeCopiesGoThroughTheStagingBufferInChunks) {
    // More than one 64 MiB staging chunk, at an offset that splits a chunk off-center.
    const uint64_t bytes = (65ull << 20) + 12;
    std::vector<uint32_t> data(bytes / 4);
    for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint32_t>(i * 2654435761u);
    CommandStream stream(device());
    const Buffer buf(device(), bytes + 8, MemoryKind::DeviceLocal, "a large test buffer");
    upload(stream, buf, 8, data.data(), bytes);
    std::vector<uint32_t> back(data.size());
    download(stream, buf, 8, back.data(), bytes);
    EXPECT_TRUE(back == data);
}

TEST_F(TransferTest, AnImpossibleAllocationIsAClearError) {
    // Far more than any device has; drivers answer out of memory, or refuse the buffer's size.
    const uint64_t huge = uint64_t{1} << 50;
    try {
        const Buffer b(device(), huge, MemoryKind::DeviceLocal, "a huge test buffer");
        FAIL() << "expected an error";
    } catch (const Error& e) {
        const std::string msg = e.what();
        EXPECT_TRUE(msg.find("out of GPU memory") != std::string::npos ||
                    msg.find("VK_ERROR_OUT_OF") != std::string::npos)
            << msg;
        EXPECT_EQ(e.kind(), ErrorKind::Io) << msg;
    }
}

}  // namespace
}  // namespace lokal::vk
