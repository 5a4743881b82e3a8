// Times the Vulkan attention shaders (KvAttention::attend) over an F16 cache: n tokens, each
// seeing `context` positions, with Llama 3 8B's heads (32 query heads of 128 on 8 KV heads).
// Small batches split each token's positions among workgroups (reported as "splits"), larger
// ones do not (16 tokens: 128 workgroups). Usage: bench_vulkan_attention [reps]; the device is
// LOKAL_DEVICE's choice (vulkan, vulkan:N; default: the best Vulkan device, software too).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "backends/vulkan/buffer.h"
#include "backends/vulkan/command_stream.h"
#include "backends/vulkan/device.h"
#include "backends/vulkan/kv_attention.h"
#include "backends/vulkan/transfer.h"
#include "base/error.h"
#include "base/random_values.h"
#include "tensor/dtype.h"
#include "vulkan_bench_device.h"

namespace {

using namespace lokal;

constexpr uint32_t kHeads = 32, kKvHeads = 8, kHeadDim = 128, kPageRows = 256;

int run(int argc, char** argv) {
    const int reps = argc > 1 ? std::atoi(argv[1]) : 5;
    if (reps < 1 || reps > 1000) {
        std::fprintf(stderr, "usage: bench_vulkan_attention [reps] (1..1000)\n");
        return 2;
    }
    const bench::BenchDevice bench_device = bench::open_bench_device();
    const vk::Device& device = *bench_device.device;
    std::printf("%8s %6s %7s %14s %14s\n", "context", "n", "splits", "us/attend", "us/token");

    vk::CommandStream stream(device, 1024);
    const uint32_t max_context = 4096, max_n = 16;
    const vk::KvGeometry g =
        vk::kv_geometry(kernels::KvType::F16, kKvHeads * kHeadDim, kPageRows, 1);
    const uint32_t n_pages = max_context / kPageRows;
    // Every row of the pool, keys and values alike, F16 of N(0, 1) values.
    const uint64_t pool_elems = n_pages * g.page_bytes / 2;
    const std::vector<float> values = random_normal(static_cast<int64_t>(pool_elems), 1, 1.0f);
    std::vector<uint8_t> image(n_pages * g.page_bytes);
    dtype_info(DType::F16)
        .from_float(values.data(), image.data(), static_cast<int64_t>(pool_elems));
    const vk::Buffer pool(device, image.size(), vk::MemoryKind::DeviceLocal, "pool");
    vk::upload(stream, pool, 0, image.data(), image.size());
    const std::vector<float> q = random_normal(int64_t{max_n} * kHeads * kHeadDim, 2, 1.0f);
    const vk::Buffer q_buf(device, q.size() * 4, vk::MemoryKind::DeviceLocal, "q");
    const vk::Buffer o_buf(device, q.size() * 4, vk::MemoryKind::DeviceLocal, "out");
    vk::upload(stream, q_buf, 0, q.data(), q.size() * 4);
    std::vector<uint32_t> pages(n_pages);
    for (uint32_t i = 0; i < n_pages; ++i) pages[i] = i;
    const std::vector<uint32_t> table_start(max_n, 0);
    const vk::Buffer pos_buf(device, max_n * 4, vk::MemoryKind::DeviceLocal, "pos");
    const vk::Buffer start_buf(device, max_n * 4, vk::MemoryKind::DeviceLocal, "table_start");
    const vk::Buffer pages_buf(device, n_pages * 4, vk::MemoryKind::DeviceLocal, "pages");
    vk::upload(stream, start_buf, 0, table_start.data(), max_n * 4);
    vk::upload(stream, pages_buf, 0, pages.data(), n_pages * 4);
    const vk::BatchIndex idx{&pos_buf, &start_buf, &pages_buf};
    vk::KvAttention kv(device, g);
    backends::AttentionShape shape;
    shape.n_head = kHeads;
    shape.n_head_kv = kKvHeads;
    shape.head_dim = kHeadDim;
    shape.scale = 1.0f / 11.3137f;

    for (uint32_t context : {512u, 4096u}) {
        for (uint32_t n : {1u, 2u, 8u, 16u}) {
            // n tokens at the context's last position (as n sequences of that length would be).
            const std::vector<uint32_t> pos(n, context - 1);
            vk::upload(stream, pos_buf, 0, pos.data(), n * 4);
            const auto attend = [&](int times) {
                for (int i = 0; i < times; ++i) {
                    kv.attend(stream, pool, 0, {&q_buf, 0, kHeads * kHeadDim},
                              {&o_buf, 0, kHeads * kHeadDim}, n, idx, shape, context);
                    stream.barrier();
                }
                stream.submit_and_wait();
            };
            attend(2);  // warm-up
            const auto start = std::chrono::steady_clock::now();
            attend(reps);
            const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
            const double us = elapsed.count() / reps * 1e6;
            std::printf("%8u %6u %7u %14.1f %14.1f\n", context, n,
                        vk::KvAttention::splits_for(n, kHeads, kKvHeads, context), us, us / n);
        }
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const lokal::Error& e) {
        std::fprintf(stderr, "bench_vulkan_attention: %s\n", e.what());
        return 1;
    }
}
