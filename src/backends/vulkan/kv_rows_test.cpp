// VulkanBackend::kv_read_rows / kv_write_rows against the CPU backend's: the same rows written
// to both read back as the same bytes, over page boundaries, for any position range, after a
// shared prefix is copied on write, and across several pools' worth of layers.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "backends/cpu/cpu_backend.h"
#include "backends/vulkan/test_gpu.h"
#include "backends/vulkan/vulkan_backend.h"

namespace lokal::backends {
namespace {

class KvRowsTest : public vk::testing::VulkanTest {};

std::vector<uint8_t> pattern(size_t n, uint32_t seed) {
    std::vector<uint8_t> b(n);
    uint32_t x = seed * 2654435761u + 1;
    for (auto& v : b) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        v = (uint8_t)x;
    }
    return b;
}

TEST_F(KvRowsTest, RowsReadBackAsTheCpuBackendsDo) {
    for (KvType type : {KvType::F16, KvType::F32, KvType::Q8_0}) {
        BackendParams p;
        p.n_threads = 1;
        p.n_layer = 3;
        p.kv_row_elems = 96;  // Q8_0: three blocks
        p.kv_type = type;
        p.kv_rows = 128;
        p.max_batch = 8;
        p.attention = {2, 1, 96, 1.0f};
        VulkanBackend gpu(p, device());
        CpuBackend cpu(p);
        const size_t row = kernels::kv_row_bytes(type, p.kv_row_elems);
        const int n = 45;  // three pages minus three rows
        const std::vector<uint8_t> rows = pattern(2 * (size_t)p.n_layer * n * row, (uint32_t)type);
        for (Backend* b : {(Backend*)&gpu, (Backend*)&cpu}) {
            ASSERT_TRUE(b->kv_reserve(0, 0, n));
            b->kv_write_rows(0, 0, n, rows.data());
        }
        for (auto [first, count] : {std::pair{0, n}, {5, 30}, {16, 16}, {44, 1}}) {
            const size_t bytes = 2 * (size_t)p.n_layer * count * row;
            std::vector<uint8_t> g(bytes), c(bytes);
            gpu.kv_read_rows(0, first, count, g.data());
            cpu.kv_read_rows(0, first, count, c.data());
            EXPECT_EQ(g, c) << kernels::kv_type_name(type) << " [" << first << ", +" << count
                            << ")";
        }
        std::vector<uint8_t> all(rows.size());
        gpu.kv_read_rows(0, 0, n, all.data());
        EXPECT_EQ(all, rows);
        // A shared prefix, then rows written into seq 1 past its middle: seq 0 keeps its own.
        const int from = 20;
        const std::vector<uint8_t> more = pattern(2 * (size_t)p.n_layer * (n - from) * row, 99);
        for (Backend* b : {(Backend*)&gpu, (Backend*)&cpu}) {
            b->kv_copy_prefix(0, 1, n);
            ASSERT_TRUE(b->kv_reserve(1, from, n));
            b->kv_write_rows(1, from, n - from, more.data());
        }
        std::vector<uint8_t> g(all.size()), c(all.size());
        gpu.kv_read_rows(0, 0, n, g.data());
        EXPECT_EQ(g, rows) << kernels::kv_type_name(type);
        gpu.kv_read_rows(1, 0, n, g.data());
        cpu.kv_read_rows(1, 0, n, c.data());
        EXPECT_EQ(g, c) << kernels::kv_type_name(type);
    }
}

}  // namespace
}  // namespace lokal::backends
